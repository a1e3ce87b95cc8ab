/**
 * The Safe through the local runner, driven by the client SDK over real HTTP: the same handler,
 * adapters and router as on AWS, the embedded S3, and the sweeper standing in for the lifecycle rule.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SafeClient } from '../../client/safe/client.ts';
import { encryptSafeBackup } from '../../client/safe/codec.ts';
import { NoBackupError, TooLargeError, WrongPasswordError } from '../../client/safe/errors.ts';
import { deriveSafeKeys, type SafeKeys, splitMasterKey } from '../../client/safe/keys.ts';
import type { TableName } from '../../contract/schema.ts';
import { backupKey } from '../../lambdas/adapters/backups.ts';
import {
  type AwsClients,
  createClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from '../../lambdas/runtime/clients.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import { sweepExpiredBackups } from '../../local/sweeper.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { type BackupId, DEFAULT_SAFE_CONFIG } from '../../protocol/safe.ts';
import { sharedServices } from '../support/runner.ts';
import {
  referenceBackupJson,
  referenceDecrypt,
  referenceEncrypt,
  referenceKeys,
} from '../support/threema-safe-reference.ts';

const IDENTITY = 'ECHOECHO';
const PASSWORD = 'shootdeathstar';
const DAY = 86_400_000;

let dataDir: string;
let runner: Runner;
let aws: AwsClients;
let client: SafeClient;
let keys: SafeKeys;
const logLines: string[] = [];

/** Keys with a random backup id, for tests that need many distinct backups without scrypt. */
const randomKeys = (): SafeKeys => splitMasterKey(randomBytes(64));

/** Ages a stored backup the way time would: s3rver reports the object file's mtime as LastModified. */
function age(id: BackupId, days: number): void {
  const path = join(
    inject('s3Directory'),
    runner.safeBucket,
    ...`${backupKey(id)}._S3rver_object`.split('/'),
  );
  const then = new Date(Date.now() - days * DAY);
  utimesSync(path, then, then);
}

async function existsInS3(id: BackupId): Promise<boolean> {
  try {
    await aws.s3.send(new GetObjectCommand({ Bucket: runner.safeBucket, Key: backupKey(id) }));
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-safe-e2e-'));
  [runner, keys] = await Promise.all([
    startRunner({
      dataDir,
      port: 0,
      sweepIntervalMs: 0,
      logSink: (line) => logLines.push(line),
      ...sharedServices(),
    }),
    deriveSafeKeys(IDENTITY, PASSWORD),
  ]);
  aws = createClients({ endpoints: runner.endpoints, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  client = new SafeClient({ server: runner.safeUrl });
});

afterAll(async () => {
  aws?.destroy();
  await runner?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Safe through the runner, with the SDK', () => {
  it('serves the config a Threema app reads', async () => {
    expect(await client.config()).toEqual(DEFAULT_SAFE_CONFIG);
    expect(DEFAULT_SAFE_CONFIG).toEqual({ maxBackupBytes: 524_288, retentionDays: 180 });
  });

  it('round-trips a backup: backup, then restore with the same ID and password', async () => {
    const json = referenceBackupJson();
    const { bytes } = await client.backup(keys, json);
    expect(bytes).toBeGreaterThan(json.length);
    expect(await client.exists(keys.backupId)).toBe(true);
    const restored = await client.restore(keys);
    expect(restored.json).toBe(json);
    expect(restored.backup.user.nickname).toBe('Reference');
  });

  it('writes what an independent reading of the format decrypts, byte for byte through the gateway', async () => {
    const json = referenceBackupJson({ marker: 'sdk → reference' });
    await client.backup(keys, json);
    const reference = referenceKeys(IDENTITY, PASSWORD);
    expect(reference.backupIdHex).toBe(keys.backupId);
    const response = await fetch(`${runner.safeUrl}backups/${reference.backupIdHex}`, {
      headers: { accept: 'application/octet-stream', 'user-agent': 'Threema' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(referenceDecrypt(new Uint8Array(await response.arrayBuffer()), reference.key)).toBe(json);
  });

  it('reads what the independent writer uploaded as a Threema app would', async () => {
    const reference = referenceKeys(IDENTITY, PASSWORD);
    const json = referenceBackupJson({ marker: 'reference → sdk' });
    const put = await fetch(`${runner.safeUrl}backups/${reference.backupIdHex}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'user-agent': 'Threema' },
      body: new Uint8Array(referenceEncrypt(json, reference.key)),
    });
    expect(put.status).toBe(200);
    expect((await put.text()).length).toBeGreaterThan(0);
    expect((await client.restore(keys)).json).toBe(json);
  });

  it('reports a wrong password as "no backup": the password names the backup', async () => {
    const wrong = await deriveSafeKeys(IDENTITY, 'shootdeathstaR');
    await expect(client.restore(wrong)).rejects.toBeInstanceOf(NoBackupError);
    await expect(client.restore(wrong)).rejects.toThrow(/password/);
  });

  it('reports a backup that does not decrypt under its name as WrongPasswordError', async () => {
    const mine = randomKeys();
    await client.upload(mine.backupId, encryptSafeBackup(referenceBackupJson(), randomKeys().encryptionKey));
    await expect(client.restore(mine)).rejects.toBeInstanceOf(WrongPasswordError);
  });

  it('reports a missing backup as NoBackupError and HEAD as absent', async () => {
    const nobody = randomKeys();
    await expect(client.restore(nobody)).rejects.toBeInstanceOf(NoBackupError);
    expect(await client.exists(nobody.backupId)).toBe(false);
  });

  it('deletes a backup, and deleting it again is fine', async () => {
    const mine = randomKeys();
    await client.backup(mine, referenceBackupJson());
    await client.delete(mine.backupId);
    await client.delete(mine.backupId);
    await expect(client.restore(mine)).rejects.toBeInstanceOf(NoBackupError);
    expect(await existsInS3(mine.backupId)).toBe(false);
  });

  it('refuses a backup over maxBackupBytes on the client, and the server refuses it too', async () => {
    const mine = randomKeys();
    await expect(
      client.upload(mine.backupId, randomBytes(LIMITS.safeMaxBackupBytesDefault + 1)),
    ).rejects.toBeInstanceOf(TooLargeError);
    // A client that skips the check meets the server's 413.
    const response = await fetch(`${runner.safeUrl}backups/${mine.backupId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: randomBytes(LIMITS.safeMaxBackupBytesDefault + 1),
    });
    expect(response.status).toBe(413);
    expect(await existsInS3(mine.backupId)).toBe(false);
  });

  it('answers the status codes Threema clients expect over real HTTP', async () => {
    const id = randomKeys().backupId;
    const at = (path: string, init: RequestInit = {}) => fetch(`${runner.safeUrl}${path}`, init);
    expect((await at(`backups/${id}`, { method: 'HEAD' })).status).toBe(404);
    expect((await at(`backups/${id}`)).status).toBe(404);
    expect((await at(`backups/${id.toUpperCase()}`)).status).toBe(400);
    expect((await at(`backups/${id.slice(2)}`)).status).toBe(400);
    const post = await at(`backups/${id}`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    expect(
      (await at(`backups/${id}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } }))
        .status,
    ).toBe(400);
    expect((await at('elsewhere')).status).toBe(404);
    const body = randomBytes(300);
    expect(
      (
        await at(`backups/${id}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body,
        })
      ).status,
    ).toBe(200);
    const head = await at(`backups/${id}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('300');
    expect(Buffer.from(await (await at(`backups/${id}`)).arrayBuffer())).toEqual(body);
  });

  it('serves many clients at once, each its own backup', async () => {
    const clients = Array.from({ length: 20 }, () => ({
      keys: randomKeys(),
      json: referenceBackupJson({ n: randomBytes(8).toString('hex') }),
      client: new SafeClient({ server: runner.safeUrl }),
    }));
    await Promise.all(clients.map((c) => c.client.backup(c.keys, c.json)));
    const restored = await Promise.all(clients.map((c) => c.client.restore(c.keys)));
    expect(restored.map((r) => r.json)).toEqual(clients.map((c) => c.json));
  });
});

describe('Safe expiry through the runner', () => {
  it('never serves a backup older than retentionDays, while it still sits in S3', async () => {
    const mine = randomKeys();
    await client.backup(mine, referenceBackupJson());
    age(mine.backupId, LIMITS.safeRetentionDaysDefault - 1);
    expect(await client.exists(mine.backupId)).toBe(true);
    age(mine.backupId, LIMITS.safeRetentionDaysDefault + 1);
    await expect(client.restore(mine)).rejects.toBeInstanceOf(NoBackupError);
    expect(await client.exists(mine.backupId)).toBe(false);
    expect(await existsInS3(mine.backupId)).toBe(true);
  });

  it('is deleted by the sweeper once expired, and a fresh one is left alone', async () => {
    const old = randomKeys();
    const fresh = randomKeys();
    await client.backup(old, referenceBackupJson());
    await client.backup(fresh, referenceBackupJson());
    age(old.backupId, LIMITS.safeRetentionDaysDefault + 1);
    const targets = {
      dynamo: aws.dynamo,
      s3: aws.s3,
      tableName: (table: TableName) => runner.tables[table],
      bucket: runner.safeBucket,
      retentionDays: LIMITS.safeRetentionDaysDefault,
      now: () => Date.now(),
    };
    expect(await sweepExpiredBackups(targets)).toBeGreaterThanOrEqual(1);
    expect(await existsInS3(old.backupId)).toBe(false);
    expect(await existsInS3(fresh.backupId)).toBe(true);
    // The same sweep a retention period later takes the fresh one too.
    await sweepExpiredBackups({
      ...targets,
      now: () => Date.now() + (LIMITS.safeRetentionDaysDefault + 1) * DAY,
    });
    expect(await existsInS3(fresh.backupId)).toBe(false);
  });
});

describe('Safe logs through the runner', () => {
  it('name routes and statuses, never a backup id', () => {
    expect(logLines.length).toBeGreaterThan(50);
    expect(logLines.some((line) => line.includes('/safe/'))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(keys.backupId);
      expect(line).not.toMatch(/[0-9a-f]{64}/i);
      expect(line).not.toContain('127.0.0.1');
    }
  });
});
