/**
 * The `switchyard` directory commands spawned as real processes against the local runner (with
 * invite-only registration), the way a person or a script runs them: identity files on disk,
 * secrets on stdin, exit codes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../client/cli/command.ts';
import { freePort } from '../../local/ports.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import { type CliRun, runCli, runOpsCli } from '../support/cli.ts';
import { issueTestInvite } from '../support/runner.ts';

let dataDir: string;
let dir: string;
let runner: Runner;
const logLines: string[] = [];
const codeLines: string[] = [];

function cli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return runCli(args, {
    ...options,
    env: { SWITCHYARD_SERVER: runner.httpUrl, SWITCHYARD_IDENTITY_FILE: '', ...options.env },
  });
}

const invite = () => issueTestInvite(runner);

const file = (name: string) => join(dir, name);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-directory-cli-'));
  dir = mkdtempSync(join(tmpdir(), 'switchyard-directory-cli-files-'));
  // Its own DynamoDB Local and default table names, not the shared ones: `invite create --data-dir`
  // finds the runner through runner.json and writes to the default ephemeral table, as with `npm start`.
  runner = await startRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    registrationPolicy: 'invite',
    logSink: (line) => logLines.push(line),
    codeSink: (line) => codeLines.push(line),
  });
});

afterAll(async () => {
  await runner?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

describe('switchyard id and lookup (CLI, spawned)', () => {
  let alice: string;
  let alicePublicKey: string;

  it('exits 12 without an invite on an invite-only server, leaving no identity file behind', async () => {
    const run = await cli(['id', 'create', '--identity-file', file('none.json'), '--no-passphrase']);
    expect(run.code).toBe(EXIT.inviteRequired);
    expect(run.stderr).toMatch(/only with an invite/);
    expect(existsSync(file('none.json'))).toBe(false);
  });

  it('issues an invite with `switchyard-ops invite create`, and `id create --invite` registers with it', async () => {
    const issued = await runOpsCli(['invite', 'create', '--data-dir', dataDir]);
    expect(issued.code).toBe(0);
    expect(issued.stdout).toMatch(/^[0-9a-f]{32}\n$/);
    const token = issued.stdout.trim();

    const path = file('alice.json');
    const run = await cli([
      'id',
      'create',
      '--invite',
      token,
      '--feature-mask',
      '0x0013',
      '--identity-file',
      path,
      '--no-passphrase',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9A-Z]{8}\n$/);
    alice = run.stdout.trim();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const saved = readJson(path);
    expect(saved.identity).toBe(alice);
    expect(saved.secretKey).toMatch(/^[0-9a-f]{64}$/);
    alicePublicKey = String(saved.publicKey);

    // The invite is spent.
    const again = await cli([
      'id',
      'create',
      '--invite',
      token,
      '--identity-file',
      file('b.json'),
      '--no-passphrase',
    ]);
    expect(again.code).toBe(EXIT.inviteRequired);
  });

  it('never overwrites an identity file', async () => {
    const before = readFileSync(file('alice.json'), 'utf8');
    const run = await cli([
      'id',
      'create',
      '--invite',
      await invite(),
      '--identity-file',
      file('alice.json'),
      '--no-passphrase',
    ]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/already exists/);
    expect(readFileSync(file('alice.json'), 'utf8')).toBe(before);
  });

  it('looks identities up, one or many, in any case; exits 13 if any is unknown', async () => {
    const one = await cli(['lookup', alice.toLowerCase()]);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe(`${alice}  active   0x0013  ${alicePublicKey}\n`);

    const many = await cli(['lookup', alice, 'UNKN0WN1', '--json']);
    expect(many.code).toBe(EXIT.notFound);
    expect(JSON.parse(many.stdout)).toEqual([
      { identity: alice, state: 'active', featureMask: 0x13, publicKey: alicePublicKey },
      { identity: 'UNKN0WN1', state: 'unknown' },
    ]);
    expect(many.stderr).toMatch(/1 of 2 identities are unknown, revoked or deleted/);
    expect(many.stderr).not.toContain('UNKN0WN1');

    const bad = await cli(['lookup', 'no-such-id']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).not.toContain('no-such-id');
  });

  it('shows the identity file next to the server’s view, and exports the data inventory', async () => {
    const show = await cli(['id', 'show', '--identity-file', file('alice.json'), '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual({
      identity: alice,
      publicKey: alicePublicKey,
      encrypted: false,
      server: { state: 'active', featureMask: 0x13, sameKey: true },
    });

    const exported = await cli(['id', 'export', '--identity-file', file('alice.json')]);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({
      identity: alice,
      publicKey: alicePublicKey,
      featureMask: 0x13,
      emailHash: null,
      revocationKey: false,
    });
  });

  it('links an e-mail address with the code, and another identity finds it with `match`', async () => {
    const linked = await cli(['link', 'email', 'Alice@Example.org', '--identity-file', file('alice.json')]);
    expect(linked.code).toBe(0);
    expect(linked.stderr).toContain('switchyard link confirm email CODE');
    const code = /: ([0-9]{6})$/.exec(codeLines.at(-1) ?? '')?.[1];
    expect(code).toMatch(/^[0-9]{6}$/);
    const wrong = code === '123456' ? '654321' : '123456';
    const refused = await cli(['link', 'confirm', 'email', wrong, '--identity-file', file('alice.json')]);
    expect(refused.code).toBe(EXIT.codeInvalid);
    const confirmed = await cli(['link', 'confirm', 'email', code!, '--identity-file', file('alice.json')]);
    expect(confirmed.code).toBe(0);

    const bob = await cli([
      'id',
      'create',
      '--invite',
      await invite(),
      '--identity-file',
      file('bob.json'),
      '--no-passphrase',
    ]);
    expect(bob.code).toBe(0);
    const matched = await cli([
      'match',
      '--emails',
      'someone@example.com, alice@example.ORG',
      '--phones',
      '+41 79 000 00 00',
      '--identity-file',
      file('bob.json'),
    ]);
    expect(matched.code).toBe(0);
    expect(matched.stdout).toBe(`${alice}  email  alice@example.ORG  ${alicePublicKey}\n`);

    const typo = await cli(['match', '--emails', 'not-an-address', '--identity-file', file('bob.json')]);
    expect(typo.code).toBe(EXIT.usage);
    expect(typo.stderr).not.toContain('not-an-address');
  });

  it('encrypts the identity file with a passphrase from stdin, and exits 3 for a wrong one', async () => {
    const path = file('carol.json');
    const created = await cli(
      ['id', 'create', '--invite', await invite(), '--identity-file', path, '--passphrase-stdin'],
      { stdin: 'correct horse battery\n' },
    );
    expect(created.code).toBe(0);
    const saved = readJson(path);
    expect(saved.encrypted).toBeTypeOf('object');
    expect(saved.secretKey).toBeUndefined();

    const wrong = await cli(['id', 'export', '--identity-file', path, '--passphrase-stdin'], {
      stdin: 'wrong\n',
    });
    expect(wrong.code).toBe(EXIT.wrongPassword);
    expect(wrong.stdout).toBe('');
    const noTerminal = await cli(['id', 'export', '--identity-file', path]);
    expect(noTerminal.code).toBe(EXIT.usage);
    expect(noTerminal.stderr).toContain('--passphrase-stdin');
    const right = await cli(['id', 'export', '--identity-file', path, '--passphrase-stdin'], {
      stdin: 'correct horse battery\n',
    });
    expect(right.code).toBe(0);
    expect(JSON.parse(right.stdout).identity).toBe(created.stdout.trim());
  });

  it('revokes with the revocation password: exits 14 when wrong, then the ID is gone', async () => {
    const path = file('carol.json');
    const carol = String(readJson(path).identity);
    const set = await cli(
      ['id', 'set-revocation-password', '--identity-file', path, '--passphrase-stdin', '--password-stdin'],
      { stdin: 'correct horse battery\nrevoke me if lost\n' },
    );
    expect(set.code).toBe(0);

    const unconfirmed = await cli(['id', 'revoke', carol, '--password-stdin'], {
      stdin: 'revoke me if lost\n',
    });
    expect(unconfirmed.code).toBe(EXIT.usage);
    expect(unconfirmed.stderr).toContain('--yes');

    const wrong = await cli(['id', 'revoke', carol, '--password-stdin', '--yes'], {
      stdin: 'not the password\n',
    });
    expect(wrong.code).toBe(EXIT.revocationRefused);
    expect((await cli(['lookup', carol])).code).toBe(0);

    const revoked = await cli(['id', 'revoke', carol, '--password-stdin', '--yes'], {
      stdin: 'revoke me if lost\n',
    });
    expect(revoked.code).toBe(0);
    expect((await cli(['lookup', carol])).code).toBe(EXIT.notFound);
    const export_ = await cli(['id', 'export', '--identity-file', path, '--passphrase-stdin'], {
      stdin: 'correct horse battery\n',
    });
    expect(export_.code).toBe(EXIT.notFound);
    expect(export_.stderr).not.toContain(carol);
  });

  it('deletes the identity on the server and then the identity file', async () => {
    const run = await cli(['id', 'delete', '--yes', '--identity-file', file('bob.json')]);
    expect(run.code).toBe(0);
    expect(existsSync(file('bob.json'))).toBe(false);
  });

  it('exits 11 without an identity file, and 5 when the server is unreachable', async () => {
    const missing = await cli(['id', 'export', '--identity-file', file('missing.json')]);
    expect(missing.code).toBe(EXIT.noIdentity);
    expect(missing.stderr).toContain('switchyard id create');

    writeFileSync(file('garbage.json'), 'not json');
    expect((await cli(['id', 'export', '--identity-file', file('garbage.json')])).code).toBe(EXIT.noIdentity);

    const port = await freePort();
    const offline = await cli(['lookup', alice], { env: { SWITCHYARD_SERVER: `http://127.0.0.1:${port}/` } });
    expect(offline.code).toBe(EXIT.unreachable);
    expect(offline.stderr).toContain('could not be reached');

    const noRunner = await runOpsCli(['invite', 'create', '--data-dir', file('no-runner')]);
    expect(noRunner.code).toBe(EXIT.unreachable);
  });

  it('refuses a plain-http server that is not localhost before sending anything', async () => {
    const run = await cli(['lookup', alice, '--server', 'http://directory.example.com/']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('https://');
  });

  it('never logs an identity or key on the server side', () => {
    expect(logLines.length).toBeGreaterThan(10);
    for (const line of logLines) {
      expect(line).not.toContain(alice);
      expect(line).not.toContain(alicePublicKey);
      expect(line.toLowerCase()).not.toContain('example');
    }
  });
});
