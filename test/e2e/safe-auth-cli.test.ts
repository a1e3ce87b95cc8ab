/**
 * A private Safe (HTTP Basic auth) in the local runner, driven by the SDK and by the `switchyard`
 * CLI spawned as a real process, the way a person or a script would run it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafeClient } from '../../client/safe/client.ts';
import { encryptSafeBackup } from '../../client/safe/codec.ts';
import { UnauthorizedError } from '../../client/safe/errors.ts';
import { deriveSafeKeys, splitMasterKey } from '../../client/safe/keys.ts';
import { freePort } from '../../local/ports.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { type CliRun, runCli } from '../support/cli.ts';
import { sharedServices } from '../support/runner.ts';
import { referenceBackupJson } from '../support/threema-safe-reference.ts';

const AUTH = { username: 'safe-user', password: 'pass:with colon' };
const AUTH_ENV = { SWITCHYARD_SAFE_SERVER_AUTH: `${AUTH.username}:${AUTH.password}` };
const IDENTITY = 'CLIT3STR';
const PASSWORD = 'correct horse battery staple';

let dataDir: string;
let runner: Runner;
const logLines: string[] = [];

function cli(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return runCli(args, options);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-safe-cli-'));
  runner = await startRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    safe: { basicAuth: AUTH },
    logSink: (line) => logLines.push(line),
    ...sharedServices(),
  });
});

afterAll(async () => {
  await runner?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a Safe with Basic auth', () => {
  it('challenges a request without credentials (so iOS retries with them), then serves it', async () => {
    const url = `${runner.safeUrl}config`;
    const first = await fetch(url, { headers: { 'user-agent': 'Threema' } });
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+"$/);
    const authorization = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;
    const retry = await fetch(url, { headers: { 'user-agent': 'Threema', authorization } });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({
      maxBackupBytes: LIMITS.safeMaxBackupBytesDefault,
      retentionDays: LIMITS.safeRetentionDaysDefault,
    });
  });

  it('gives the SDK distinct errors for missing and wrong credentials', async () => {
    const keys = splitMasterKey(randomBytes(64));
    const none = new SafeClient({ server: runner.safeUrl });
    const error = await none.restore(keys).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as Error).message).toMatch(/requires a username and password/);
    const wrong = new SafeClient({
      server: runner.safeUrl,
      credentials: { username: AUTH.username, password: 'nope' },
    });
    await expect(wrong.restore(keys)).rejects.toThrow(/refused the username and password/);
  });

  it('works with credentials in the URL, as the Threema apps accept them', async () => {
    const url = new URL(runner.safeUrl);
    url.username = encodeURIComponent(AUTH.username);
    url.password = encodeURIComponent(AUTH.password);
    const client = new SafeClient({ server: url.href });
    const keys = splitMasterKey(randomBytes(64));
    const json = referenceBackupJson();
    await client.backup(keys, json);
    expect((await client.restore(keys)).json).toBe(json);
  });
});

describe('switchyard safe (CLI, spawned)', () => {
  let dir: string;
  let backupFile: string;
  const json = referenceBackupJson({ cli: true });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-files-'));
    backupFile = join(dir, 'backup.json');
    writeFileSync(backupFile, json);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const common = () => ['--server', runner.httpUrl, '--identity', IDENTITY.toLowerCase(), '--password-stdin'];

  it('backs up a file, showing progress while scrypt runs', async () => {
    const run = await cli(['safe', 'backup', ...common(), '--file', backupFile], {
      stdin: `${PASSWORD}\n`,
      env: AUTH_ENV,
    });
    expect(run.stderr).toContain('Deriving keys from the password (scrypt)');
    expect(run.stderr).toMatch(/Keys derived in \d+\.\d s/);
    expect(run.stderr).toContain('Backup uploaded');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
  });

  it('restores it to stdout, exactly as backed up', async () => {
    const run = await cli(['safe', 'restore', ...common()], { stdin: `${PASSWORD}\n`, env: AUTH_ENV });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${json}\n`);
  });

  it('restores it to a file only its owner can read', async () => {
    const out = join(dir, 'restored.json');
    const run = await cli(['safe', 'restore', ...common(), '--out', out], { stdin: PASSWORD, env: AUTH_ENV });
    expect(run.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(json);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(run.stdout).toBe('');
  });

  it('exits 4 with advice when no backup matches (e.g. a wrong password)', async () => {
    const run = await cli(['safe', 'restore', ...common()], { stdin: 'not the password', env: AUTH_ENV });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/no backup for this ID and password.*check the password/i);
    expect(run.stdout).toBe('');
  });

  it('exits 3 when the backup under this name does not decrypt', async () => {
    const keys = await deriveSafeKeys('DAMAGED1', PASSWORD);
    const client = new SafeClient({ server: runner.safeUrl, credentials: AUTH });
    await client.upload(keys.backupId, encryptSafeBackup(json, randomBytes(32)));
    const run = await cli(
      ['safe', 'restore', '--server', runner.httpUrl, '--identity', 'DAMAGED1', '--password-stdin'],
      {
        stdin: PASSWORD,
        env: AUTH_ENV,
      },
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('does not decrypt');
  });

  it('exits 7 when the server needs credentials it was not given', async () => {
    const run = await cli(['safe', 'restore', ...common()], { stdin: PASSWORD });
    expect(run.code).toBe(7);
    expect(run.stderr).toContain('requires a username and password');
  });

  it('exits 6 before uploading a backup larger than the server accepts', async () => {
    const big = join(dir, 'big.json');
    const picture = randomBytes(LIMITS.safeMaxBackupBytesDefault).toString('base64');
    writeFileSync(
      big,
      referenceBackupJson({ user: { privatekey: randomBytes(32).toString('base64'), profilePic: picture } }),
    );
    const run = await cli(['safe', 'backup', ...common(), '--file', big], { stdin: PASSWORD, env: AUTH_ENV });
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/at most 524288/);
  });

  it('exits 5 when the server cannot be reached', async () => {
    const port = await freePort();
    const run = await cli(
      [
        'safe',
        'restore',
        '--server',
        `http://127.0.0.1:${port}/safe/`,
        '--identity',
        IDENTITY,
        '--password-stdin',
      ],
      { stdin: PASSWORD },
    );
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('could not be reached');
  });

  it('never logs a credential or a backup id on the server side', () => {
    expect(logLines.length).toBeGreaterThan(5);
    for (const line of logLines) {
      expect(line).not.toContain(AUTH.username);
      expect(line).not.toContain(AUTH.password);
      expect(line).not.toMatch(/[0-9a-f]{64}/i);
    }
  });
});
