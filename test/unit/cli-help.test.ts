/**
 * What `switchyard` and `switchyard-ops` say about themselves — help, exit codes, version — and
 * what they load to say it: the built executables start without the SDK.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli, CLI_ENTRIES } from '../../build.ts';
import { type CliIo, EXIT } from '../../client/cli/command.ts';
import { COMMANDS, runCli } from '../../client/cli/main.ts';
import { COMMANDS as OPS_COMMANDS, runOps } from '../../ops/main.ts';

const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

function fakeIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env: {} };
  return { io, out: () => out };
}

async function help(run: typeof runCli, args: string[]): Promise<string> {
  const { io, out } = fakeIo();
  expect(await run(args, io), args.join(' ')).toBe(EXIT.ok);
  return out();
}

/** The exit codes an `Exit codes:` block lists. */
const exitCodes = (text: string) =>
  [...(text.split('Exit codes:')[1] ?? '').matchAll(/(?:^|·)\s*(\d+) /gm)].map((m) => Number(m[1]));

describe('switchyard --help', () => {
  it('lists every exit code a command can end with, on every command', async () => {
    const expected: Record<string, number[]> = {
      id: [0, 1, 2, 3, 5, 6, 8, 10, 11, 12, 13, 14, 17, 130],
      lookup: [0, 1, 2, 5, 6, 8, 10, 13],
      link: [0, 1, 2, 3, 5, 6, 8, 10, 11, 15, 16, 17, 130],
      unlink: [0, 1, 2, 3, 5, 6, 8, 10, 11, 17, 130],
      match: [0, 1, 2, 3, 5, 6, 8, 10, 11, 17, 130],
      send: [0, 1, 2, 3, 5, 6, 8, 10, 11, 13, 17, 18, 130],
      listen: [0, 1, 2, 3, 5, 6, 8, 10, 11, 17, 18, 130],
      push: [0, 1, 2, 3, 5, 6, 8, 10, 11, 16, 17, 18, 130],
      safe: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 16, 17, 130],
      vault: [0, 1, 2, 3, 5, 6, 8, 10, 11, 13, 15, 16, 17, 130],
    };
    expect(COMMANDS.map((c) => c.name).sort()).toEqual(Object.keys(expected).sort());
    for (const command of COMMANDS) {
      const text = await help(runCli, [command.name, '--help']);
      expect(exitCodes(text), command.name).toEqual(expected[command.name]);
    }
  });

  it('shows the identity file options only where a command reads or writes one', async () => {
    const lookup = await help(runCli, ['lookup', '--help']);
    expect(lookup).not.toContain('--identity-file');
    expect(lookup).not.toContain('--passphrase-stdin');
    const send = await help(runCli, ['send', '--help']);
    expect(send).toContain('--identity-file');
    expect(send).not.toContain('--no-passphrase');
    for (const writer of ['id', 'safe'])
      expect(await help(runCli, [writer, '--help'])).toContain('--no-passphrase');
  });

  it('prints the version of the package, as --version, -V and version, for both tools', async () => {
    for (const flag of ['--version', '-V', 'version']) {
      expect(await help(runCli, [flag])).toBe(`switchyard ${packageJson.version}\n`);
      expect(await help(runOps, [flag])).toBe(`switchyard-ops ${packageJson.version}\n`);
    }
    expect(await help(runCli, ['--help'])).toContain('--version');
  });

  it('lists the operator commands with exit codes too', async () => {
    for (const command of OPS_COMMANDS) {
      const text = await help(runOps, [command.name, '--help']);
      expect(text, command.name).toMatch(/Exit codes:/);
    }
  });
});

describe('the built executables', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-dist-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('are what package.json names as bin', () => {
    expect(packageJson.bin).toEqual(
      Object.fromEntries(Object.keys(CLI_ENTRIES).map((name) => [name, `dist/${name}.js`])),
    );
  });

  // What loads before a command runs is what `--help` and `--version` cost (BENCHMARKS.md, CLI
  // start-up): node's own modules and the dispatcher, never a package (the SDK's crypto, ws, …).
  it('load no package until a command runs: each command is a chunk of its own', async () => {
    const metafile = await buildCli(outdir);
    for (const name of Object.keys(CLI_ENTRIES)) {
      const seen = new Set<string>();
      const external = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const imported of metafile.outputs[file]?.imports ?? []) {
          if (imported.kind !== 'import-statement') continue;
          if (imported.external) external.add(imported.path);
          else visit(imported.path);
        }
      };
      visit(relative(process.cwd(), join(outdir, `${name}.js`)));
      expect(seen.size, name).toBeGreaterThan(0);
      expect(
        [...external].filter((path) => !path.startsWith('node:')),
        name,
      ).toEqual([]);
    }
  });
});
