import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../client/cli/command.ts';
import { runCli } from '../../client/cli/main.ts';
import { parseSafeServerUrl, SafeClient } from '../../client/safe/client.ts';
import {
  InvalidInputError,
  NoBackupError,
  RateLimitedError,
  ServerError,
  ServerUnreachableError,
  TooLargeError,
  UnauthorizedError,
} from '../../client/safe/errors.ts';
import { splitMasterKey } from '../../client/safe/keys.ts';

describe('Safe server URLs', () => {
  it('adds the trailing slash and keeps a base path', () => {
    expect(parseSafeServerUrl('https://safe.example.com/safe')).toEqual({
      base: 'https://safe.example.com/safe/',
      credentials: undefined,
    });
    expect(parseSafeServerUrl('https://safe.example.com').base).toBe('https://safe.example.com/');
  });

  it('takes Basic credentials from the URL and removes them from it', () => {
    expect(parseSafeServerUrl('https://us%40er:p%3Ass@safe.example.com/safe/')).toEqual({
      base: 'https://safe.example.com/safe/',
      credentials: { username: 'us@er', password: 'p:ss' },
    });
  });

  it('requires https, except for http on the local machine', () => {
    for (const url of ['http://safe.example.com/', 'ftp://safe.example.com/', 'safe.example.com', '']) {
      expect(() => parseSafeServerUrl(url), url).toThrow(InvalidInputError);
    }
    for (const url of ['http://localhost:8080/safe/', 'http://127.0.0.1:1/safe/', 'http://[::1]:8080/']) {
      expect(() => parseSafeServerUrl(url), url).not.toThrow();
    }
  });

  it('refuses queries and fragments, which would break the appended paths', () => {
    expect(() => parseSafeServerUrl('https://safe.example.com/?x=1')).toThrow(/query/);
    expect(() => parseSafeServerUrl('https://safe.example.com/#x')).toThrow(/fragment/);
  });

  it('keeps the {backupIdPrefix8} host placeholder and fills it per backup', async () => {
    expect(parseSafeServerUrl('https://safe-{backupIdPrefix8}.example.com/').base).toBe(
      'https://safe-{backupIdPrefix8}.example.com/',
    );
    const requested: string[] = [];
    const fakeFetch = (async (url: string) => {
      requested.push(url);
      return new Response(null, { status: 404 });
    }) as unknown as typeof fetch;
    const client = new SafeClient({
      server: 'https://safe-{backupIdPrefix8}.example.com/s',
      fetch: fakeFetch,
    });
    expect(await client.exists(`c3${'0'.repeat(62)}` as never)).toBe(false);
    expect(requested).toEqual([`https://safe-c3.example.com/s/backups/c3${'0'.repeat(62)}`]);
  });
});

describe('Safe client status mapping', () => {
  // A scripted fetch stands in for odd servers (redirects, 429, 5xx) that the real one never sends.
  const keys = splitMasterKey(new Uint8Array(64).fill(1));
  function answering(response: () => Response | Promise<Response>): SafeClient {
    const fake = (async () => response()) as unknown as typeof fetch;
    return new SafeClient({ server: 'https://safe.example.com/safe/', fetch: fake });
  }

  it('maps each status to its own error', async () => {
    const cases: Array<[() => Response, new (...args: never[]) => Error, RegExp?]> = [
      [() => new Response('', { status: 404 }), NoBackupError],
      [() => new Response('', { status: 401 }), UnauthorizedError, /requires a username/],
      [() => new Response('', { status: 413 }), TooLargeError],
      [
        () => new Response('', { status: 429, headers: { 'retry-after': '30' } }),
        RateLimitedError,
        /in 30 s/,
      ],
      [() => new Response('', { status: 500 }), ServerError, /HTTP 500/],
      [() => new Response('', { status: 400 }), ServerError, /malformed/],
      [
        () => new Response('', { status: 302, headers: { location: 'https://elsewhere/' } }),
        ServerError,
        /redirects/,
      ],
      [() => new Response(new Uint8Array(10), { status: 206 }), ServerError],
    ];
    for (const [response, type, message] of cases) {
      const error = await answering(response)
        .download(keys.backupId)
        .catch((e: unknown) => e);
      expect(error, String(response().status)).toBeInstanceOf(type);
      if (message) expect((error as Error).message).toMatch(message);
    }
  });

  it('reports a network failure as unreachable', async () => {
    const client = answering(() => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    });
    await expect(client.config()).rejects.toThrow(ServerUnreachableError);
    await expect(client.config()).rejects.toThrow(/ENOTFOUND/);
  });

  it('says so when the URL has no Safe server behind it', async () => {
    await expect(answering(() => new Response('nope', { status: 404 })).config()).rejects.toThrow(
      /No Threema Safe server/,
    );
    await expect(answering(() => new Response('<html>', { status: 200 })).config()).rejects.toThrow(
      /not a Safe config/,
    );
  });

  it('checks the size against the server config before uploading', async () => {
    let puts = 0;
    const fake = (async (_url: string, init?: RequestInit) => {
      if (init?.method === 'PUT') puts++;
      return Response.json({ maxBackupBytes: 100, retentionDays: 180 });
    }) as unknown as typeof fetch;
    const client = new SafeClient({ server: 'https://safe.example.com/safe/', fetch: fake });
    const error = await client.upload(keys.backupId, new Uint8Array(101)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooLargeError);
    expect((error as TooLargeError).limit).toBe(100);
    expect(puts).toBe(0);
  });
});

function fakeIo(stdinText?: string) {
  const stdin = new PassThrough();
  if (stdinText !== undefined) stdin.end(stdinText);
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
  const io: CliIo = { stdin, stdout, stderr, env: {} };
  return { io, out: () => out, err: () => err };
}

describe('switchyard CLI dispatch and usage errors', () => {
  it('lists the commands and exits 0 on --help', async () => {
    const { io, out } = fakeIo();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(out()).toMatch(/safe\s+Make and restore Threema Safe backups/);
  });

  it('exits 2 for an unknown command or subcommand', async () => {
    const a = fakeIo();
    expect(await runCli(['nope'], a.io)).toBe(2);
    expect(a.err()).toContain('unknown command "nope"');
    const b = fakeIo();
    expect(await runCli(['safe', 'nope'], b.io)).toBe(2);
    expect(b.err()).toContain('Unknown safe command');
  });

  it('exits 2 with a clear message for missing or unknown options', async () => {
    const a = fakeIo();
    expect(await runCli(['safe', 'backup', '--file', 'backup.json'], a.io)).toBe(2);
    expect(a.err()).toContain('--identity ID is required with --file');
    const b = fakeIo();
    expect(await runCli(['safe', 'restore', '--server', 'https://x.example/', '--bogus'], b.io)).toBe(2);
    expect(b.err()).toMatch(/bogus/);
  });

  it('refuses plain http to another machine before asking for anything', async () => {
    const { io, err } = fakeIo('password123\n');
    const code = await runCli(
      [
        'safe',
        'restore',
        '--safe-url',
        'http://safe.example.com/',
        '--identity',
        'ECHOECHO',
        '--password-stdin',
      ],
      io,
    );
    expect(code).toBe(2);
    expect(err()).toContain('https://');
  });

  it('exits 9 for a backup file that is not a Threema Safe backup, before asking for the password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
    const file = join(dir, 'backup.json');
    writeFileSync(file, JSON.stringify({ info: { version: 2 }, user: {}, settings: {} }));
    const { io, err } = fakeIo();
    const code = await runCli(
      ['safe', 'backup', '--server', 'https://x.example/', '--identity', 'ECHOECHO', '--file', file],
      io,
    );
    expect(code).toBe(9);
    expect(err()).toContain('version 2');
    expect(err()).not.toContain('password');
  });

  it('explains how to pass a password when there is no terminal', async () => {
    const { io, err } = fakeIo();
    const code = await runCli(
      ['safe', 'restore', '--server', 'https://x.example/', '--identity', 'ECHOECHO'],
      io,
    );
    expect(code).toBe(2);
    expect(err()).toContain('--password-stdin');
  });

  it('exits 2 when the password on stdin is too short', async () => {
    const { io, err } = fakeIo('short\n');
    const code = await runCli(
      ['safe', 'restore', '--server', 'https://x.example/', '--identity', 'ECHOECHO', '--password-stdin'],
      io,
    );
    expect(code).toBe(2);
    expect(err()).toContain('at least 8 characters');
  });
});
