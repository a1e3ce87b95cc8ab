/**
 * `switchyard-ops` dispatch and its usage errors, driven in-process: the operator commands live
 * there and no longer in the client CLI. Every refusal here happens before any table, secret or
 * file is touched.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CliIo, EXIT } from '../../client/cli/command.ts';
import { runCli } from '../../client/cli/main.ts';
import { runOps } from '../../ops/main.ts';

function fakeIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
  });
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, env: {} };
  return { io, out: () => out, err: () => err };
}

const OPERATOR_COMMANDS = ['invite', 'identities', 'usage', 'server-key'];

describe('switchyard-ops dispatch', () => {
  it('lists the operator commands and exits 0 on --help, 2 without a command', async () => {
    const help = fakeIo();
    expect(await runOps(['--help'], help.io)).toBe(EXIT.ok);
    expect(help.out()).toMatch(/^Usage: switchyard-ops <command>/);
    for (const name of OPERATOR_COMMANDS) expect(help.out()).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));

    const bare = fakeIo();
    expect(await runOps([], bare.io)).toBe(EXIT.usage);
    expect(bare.out()).toBe(help.out());
  });

  it('exits 2 for an unknown command, naming the tool', async () => {
    const run = fakeIo();
    expect(await runOps(['send'], run.io)).toBe(EXIT.usage);
    expect(run.err()).toMatch(/^switchyard-ops: unknown command "send"/);
  });

  it('shows each command its own help with exit 0', async () => {
    for (const [args, usage] of [
      [['invite', '--help'], 'switchyard-ops invite create'],
      [['invite', 'create', '--help'], 'switchyard-ops invite create'],
      [['identities', '--help'], 'switchyard-ops identities restore'],
      [['identities', 'restore', '--help'], 'switchyard-ops identities restore'],
      [['identities', 'block', '--help'], 'switchyard-ops identities block ID'],
      [['invite', 'list', '--help'], 'switchyard-ops invite list'],
      [['usage', '--help'], 'switchyard-ops usage'],
      [['server-key', '--help'], 'switchyard-ops server-key --new-secret-file'],
    ] as const) {
      const run = fakeIo();
      expect(await runOps(args, run.io), args.join(' ')).toBe(EXIT.ok);
      expect(run.out(), args.join(' ')).toContain(usage);
      expect(run.err(), args.join(' ')).toBe('');
    }
  });

  it('refuses bad arguments with exit 2 and a pointer to the help', async () => {
    for (const args of [
      ['invite', 'revoke'],
      ['invite', 'revoke', '--id', 'not-hex'],
      ['invite', 'list', 'extra'],
      ['invite', 'burn'],
      ['identities', 'block'],
      ['identities', 'block', 'not-an-id'],
      ['identities', 'block', 'ABCD1234', '--identities-table', 'switchyard-identities'],
      ['usage', '--days', '0'],
      ['usage', '--days', 'many'],
      ['invite', 'create', '--table', 'switchyard-ephemeral', '--data-dir', '.data'],
      ['invite', 'create', '--region', 'eu-central-1'],
      ['invite', 'create', '--table', 'no spaces allowed'],
      ['invite', 'create', '--bogus'],
      ['identities', 'copy'],
      ['identities', 'restore', '--from', 'switchyard-identities-restored'],
      ['identities', 'restore', '--from', 'same-table', '--to', 'same-table'],
      ['server-key', '--bogus'],
      ['server-key', '--new-secret-file', join(tmpdir(), 'never-written'), '--secret-arn', 'arn'],
    ]) {
      const run = fakeIo();
      expect(await runOps(args, run.io), args.join(' ')).toBe(EXIT.usage);
      expect(run.err(), args.join(' ')).toMatch(/^switchyard-ops: /);
      expect(run.err(), args.join(' ')).toMatch(/--help|Usage:/);
    }
  });
});

describe('the client CLI', () => {
  it('no longer has the operator commands', async () => {
    const help = fakeIo();
    expect(await runCli(['--help'], help.io)).toBe(EXIT.ok);
    for (const name of OPERATOR_COMMANDS) {
      expect(help.out()).not.toMatch(new RegExp(`^  ${name}\\s`, 'm'));
      const run = fakeIo();
      expect(await runCli([name, '--help'], run.io), name).toBe(EXIT.usage);
      expect(run.err()).toContain(`unknown command "${name}"`);
    }
  });
});
