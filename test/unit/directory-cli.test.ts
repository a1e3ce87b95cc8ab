/**
 * The directory commands' refusals, in process: each thing the user would do differently gets its
 * own exit code and a message that repeats no identity, key or address. The server's answers are
 * stubbed at `fetch` (the SDK's only way out); the real runner is exercised in
 * test/e2e/directory-cli.test.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CliIo, EXIT } from '../../client/cli/command.ts';
import { runCli } from '../../client/cli/main.ts';
import { saveIdentityFile } from '../../client/keyfile.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import { ERROR_CODES, type ErrorCode } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';

const ID = 'QWERTY12' as IdentityId;
const keys = generateKeyPair();
let dir: string;
let identityFile: string;

function io(stdin = ''): CliIo & { out: () => string; err: () => string } {
  const input = new PassThrough();
  input.end(stdin);
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
  return {
    stdin: input,
    stdout,
    stderr,
    env: { SWITCHYARD_SERVER: 'http://127.0.0.1:9/', SWITCHYARD_IDENTITY_FILE: identityFile },
    out: () => out,
    err: () => err,
  };
}

/** Every request the CLI makes gets this error answer. */
function serverRefuses(code: ErrorCode): void {
  vi.stubGlobal('fetch', async () =>
    Response.json({ error: code, message: ERROR_CODES[code].message }, { status: ERROR_CODES[code].status }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-unit-'));
  identityFile = join(dir, 'identity.json');
  await saveIdentityFile(identityFile, { identity: ID, keys });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('directory commands: refusals and exit codes', () => {
  const cases: [ErrorCode | 'unreachable', string[], number][] = [
    ['rate_limited', ['lookup', ID], EXIT.rateLimited],
    [
      'invite_required',
      ['id', 'create', '--no-passphrase', '--identity-file', 'PLACEHOLDER'],
      EXIT.inviteRequired,
    ],
    ['not_found', ['id', 'export'], EXIT.notFound],
    ['revocation_failed', ['id', 'revoke', ID, '--yes', '--password-stdin'], EXIT.revocationRefused],
    ['code_invalid', ['link', 'confirm', 'phone', '123456'], EXIT.codeInvalid],
    ['not_supported', ['link', 'email', 'someone@example.org'], EXIT.notSupported],
    ['proof_invalid', ['unlink', 'email'], EXIT.keyRefused],
    ['unavailable', ['match', '--phones', '+41791234567'], EXIT.serverError],
    ['unreachable', ['lookup', ID], EXIT.unreachable],
  ];

  it.each(cases)('%s → its own exit code, naming nothing the user sent', async (code, args, exit) => {
    if (code === 'unreachable') {
      vi.stubGlobal('fetch', async () => {
        throw new TypeError('fetch failed');
      });
    } else {
      serverRefuses(code);
    }
    const streams = io('a revocation password\n');
    const argv = args.map((arg) => (arg === 'PLACEHOLDER' ? join(dir, `new-${code}.json`) : arg));
    expect(await runCli(argv, streams)).toBe(exit);
    expect(streams.err()).toMatch(/^switchyard: /);
    for (const secret of [ID, toHex(keys.publicKey), 'someone', '791234567', 'a revocation password']) {
      expect(streams.err()).not.toContain(secret);
    }
    expect(streams.out()).toBe('');
  });

  it('gives each of these refusals a distinct exit code', () => {
    const exits = cases.map(([, , exit]) => exit);
    expect(new Set(exits).size).toBe(exits.length);
    expect(exits).not.toContain(EXIT.ok);
    expect(exits).not.toContain(EXIT.failure);
  });

  it('refuses bad arguments with exit 2 before contacting the server', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    for (const args of [
      ['lookup'],
      ['lookup', 'TOO-LONG-ID'],
      ['id', 'create', '--feature-mask', '0x10000', '--no-passphrase'],
      ['id', 'create', '--no-passphrase', '--passphrase-stdin'],
      ['id', 'revoke'],
      ['link', 'fax', '12345'],
      ['link', 'phone', '12'],
      ['link', 'confirm', 'email', '12a456'],
      ['match'],
      ['match', '--emails', 'a@b.c', 'extra'],
      ['id', 'set-revocation-password', '--password-stdin'],
      ['id', 'delete'],
      ['id', 'show', '--unknown-option'],
    ]) {
      const streams = io('short\n');
      expect(await runCli(args, streams), args.join(' ')).toBe(EXIT.usage);
      // A bare command prints its usage; anything else says what is wrong and points to --help.
      expect(streams.err() + streams.out(), args.join(' ')).toMatch(/--help|^Usage:/);
    }
    expect(fetch).not.toHaveBeenCalled();
  });

  it('leaves no identity file behind when registration fails', async () => {
    serverRefuses('rate_limited');
    const path = join(dir, 'never.json');
    const streams = io();
    expect(await runCli(['id', 'create', '--no-passphrase', '--identity-file', path], streams)).toBe(
      EXIT.rateLimited,
    );
    expect(existsSync(path)).toBe(false);
  });
});
