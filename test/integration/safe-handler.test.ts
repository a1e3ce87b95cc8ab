/**
 * The Safe handler as the Lambda entry builds it (composeSafe: the middy stack + the S3 adapter), against
 * the embedded s3rver: every status path a Threema client can meet.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpHandler } from '../../contract/events.ts';
import { backupKey, s3BackupStore } from '../../lambdas/adapters/backups.ts';
import { systemRandom } from '../../lambdas/domain/clock.ts';
import { basicAuthDigest } from '../../lambdas/domain/safe.ts';
import type { RuntimeConfig } from '../../lambdas/runtime/env.ts';
import { composeSafe } from '../../lambdas/runtime/functions/safe.ts';
import { createLogger } from '../../lambdas/runtime/log.ts';
import { type BackupId, ensureBackupId } from '../../protocol/safe.ts';
import { freshResources, type TestResources } from '../support/aws.ts';
import { basic, resultBytes, safeEvent } from '../support/safe-events.ts';

const DAY = 86_400_000;
const MAX = 4096;
const RETENTION = 30;
const AUTH = { username: 'safe-operator', password: 'Tr0ub4dor&3-basic' };

let resources: TestResources;
const logLines: string[] = [];
let now = Date.now();
const clock = { now: () => now };

function config(overrides: Partial<RuntimeConfig['safe']> = {}, bucket?: string): RuntimeConfig {
  return {
    tables: {},
    safeBucket: bucket ?? resources.bucket,
    registrationPolicy: 'open',
    messageTtlDays: 14,
    safe: { maxBackupBytes: MAX, retentionDays: RETENTION, ...overrides },
    media: { maxBlobBytes: 1024, ttlDays: 14, quotaBytes: 4096 },
  };
}

function handler(overrides: Partial<RuntimeConfig['safe']> = {}, bucket?: string): HttpHandler {
  const composed = composeSafe(config(overrides, bucket), resources.clients, {
    clock,
    random: systemRandom,
    log: createLogger((line) => logLines.push(line)),
  });
  return (event) => composed(event, {} as never);
}

const newId = (): BackupId => ensureBackupId(randomBytes(32).toString('hex'));
const ids: string[] = [];
function trackedId(): BackupId {
  const id = newId();
  ids.push(id);
  return id;
}

async function stored(id: BackupId): Promise<Buffer | undefined> {
  try {
    const object = await resources.clients.s3.send(
      new GetObjectCommand({ Bucket: resources.bucket, Key: backupKey(id) }),
    );
    return Buffer.from(await object.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

async function objectCount(): Promise<number> {
  const page = await resources.clients.s3.send(new ListObjectsV2Command({ Bucket: resources.bucket }));
  return page.KeyCount ?? 0;
}

let safe: HttpHandler;

beforeAll(async () => {
  resources = await freshResources();
  safe = handler();
});

afterAll(() => resources.clients.destroy());

describe('Safe: GET config', () => {
  it('answers 200 with both integers, as configured', async () => {
    const result = await safe(
      safeEvent({ method: 'GET', path: '/safe/config', headers: { accept: 'application/json' } }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(result.body!)).toEqual({ maxBackupBytes: MAX, retentionDays: RETENTION });
  });

  it('reports the conventional defaults when configured with them', async () => {
    const result = await handler({ maxBackupBytes: 524_288, retentionDays: 180 })(
      safeEvent({ method: 'GET', path: '/safe/config' }),
    );
    expect(JSON.parse(result.body!)).toEqual({ maxBackupBytes: 524_288, retentionDays: 180 });
  });
});

describe('Safe: backups', () => {
  it('stores with PUT, serves with GET and HEAD, forgets with DELETE', async () => {
    const id = trackedId();
    const body = randomBytes(1000);
    const put = await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body }));
    expect(put.statusCode).toBe(200);
    expect(put.body!.length).toBeGreaterThan(0);
    expect(await stored(id)).toEqual(body);

    const get = await safe(
      safeEvent({
        method: 'GET',
        path: `/safe/backups/${id}`,
        headers: { accept: 'application/octet-stream' },
      }),
    );
    expect(get.statusCode).toBe(200);
    expect(get.isBase64Encoded).toBe(true);
    expect(get.headers?.['content-type']).toBe('application/octet-stream');
    expect(resultBytes(get)).toEqual(body);

    const head = await safe(safeEvent({ method: 'HEAD', path: `/safe/backups/${id}` }));
    expect(head.statusCode).toBe(200);
    expect(head.headers?.['content-length']).toBe('1000');
    expect(head.body).toBeUndefined();

    const del = await safe(safeEvent({ method: 'DELETE', path: `/safe/backups/${id}` }));
    expect(del.statusCode).toBe(200);
    expect(del.body!.length).toBeGreaterThan(0);
    expect(await stored(id)).toBeUndefined();

    expect((await safe(safeEvent({ method: 'GET', path: `/safe/backups/${id}` }))).statusCode).toBe(404);
    expect((await safe(safeEvent({ method: 'HEAD', path: `/safe/backups/${id}` }))).statusCode).toBe(404);
  });

  it('answers 404 with an error body for a backup that never existed', async () => {
    const result = await safe(safeEvent({ method: 'GET', path: `/safe/backups/${newId()}` }));
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body!)).toEqual({ error: 'not_found', message: 'Not found' });
  });

  it('answers DELETE of an absent backup with 200, as Android requires a 2xx', async () => {
    const result = await safe(safeEvent({ method: 'DELETE', path: `/safe/backups/${newId()}` }));
    expect(result.statusCode).toBe(200);
  });

  it('replaces a backup on a second PUT and keeps no trace of the first', async () => {
    const id = trackedId();
    await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body: Buffer.from('first version') }));
    await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body: Buffer.from('second') }));
    expect(
      resultBytes(await safe(safeEvent({ method: 'GET', path: `/safe/backups/${id}` }))).toString(),
    ).toBe('second');
  });

  it('keeps every byte value of random binary bodies intact', async () => {
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const body of [everyByte, Buffer.concat([everyByte, randomBytes(MAX - 256)]), randomBytes(1)]) {
      const id = trackedId();
      expect((await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body }))).statusCode).toBe(
        200,
      );
      expect(resultBytes(await safe(safeEvent({ method: 'GET', path: `/safe/backups/${id}` })))).toEqual(
        body,
      );
    }
  });
});

describe('Safe: refused requests change nothing', () => {
  let id: BackupId;
  const original = randomBytes(512);

  beforeAll(async () => {
    id = trackedId();
    await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body: original }));
  });

  async function expectUnchanged(): Promise<void> {
    expect(await stored(id)).toEqual(original);
  }

  it('refuses malformed ids with 400 and stores nothing', async () => {
    const before = await objectCount();
    for (const bad of [id.toUpperCase(), id.slice(1), `${id}0`, `${id.slice(1)}g`, 'not-an-id']) {
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
        const result = await safe(
          safeEvent({
            method,
            path: `/safe/backups/${bad}`,
            ...(method === 'PUT' ? { body: randomBytes(10) } : {}),
          }),
        );
        expect(result.statusCode, `${method} ${bad.length}`).toBe(400);
      }
    }
    expect(await objectCount()).toBe(before);
    await expectUnchanged();
  });

  it('refuses an empty PUT with 400', async () => {
    const result = await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}` }));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).error).toBe('bad_request');
    await expectUnchanged();
  });

  it('refuses a body over maxBackupBytes with 413, whether declared or actual', async () => {
    const actual = await safe(
      safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body: randomBytes(MAX + 1) }),
    );
    expect(actual.statusCode).toBe(413);
    const declared = await safe(
      safeEvent({
        method: 'PUT',
        path: `/safe/backups/${id}`,
        body: randomBytes(10),
        headers: { 'content-length': String(MAX + 1) },
      }),
    );
    expect(declared.statusCode).toBe(413);
    await expectUnchanged();
  });

  it('accepts a body of exactly maxBackupBytes', async () => {
    const other = trackedId();
    const body = randomBytes(MAX);
    expect((await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${other}`, body }))).statusCode).toBe(
      200,
    );
    expect(await stored(other)).toEqual(body);
  });

  it('answers unsupported methods with 405 and Allow', async () => {
    for (const method of ['POST', 'PATCH', 'OPTIONS']) {
      const result = await safe(safeEvent({ method, path: `/safe/backups/${id}`, body: randomBytes(10) }));
      expect(result.statusCode).toBe(405);
      expect(result.headers?.allow).toBe('GET, HEAD, PUT, DELETE');
    }
    const config = await safe(safeEvent({ method: 'DELETE', path: '/safe/config' }));
    expect(config.statusCode).toBe(405);
    expect(config.headers?.allow).toBe('GET, HEAD');
    await expectUnchanged();
  });

  it('answers any other path under /safe/ with a Safe 404', async () => {
    for (const path of ['/safe/backup', `/safe/backups/${id}/x`, '/safe/config/x']) {
      const result = await safe(safeEvent({ method: 'GET', path }));
      expect(result.statusCode, path).toBe(404);
      expect(JSON.parse(result.body!).error).toBe('not_found');
    }
    await expectUnchanged();
  });
});

describe('Safe: expiry at read time', () => {
  it('never serves a backup older than retentionDays, even before the lifecycle deletes it', async () => {
    const id = trackedId();
    const body = randomBytes(100);
    now = Date.now();
    await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body }));
    // The object still exists: only the read-time check stands between it and the client.
    now = Date.now() + RETENTION * DAY + 60_000;
    expect((await safe(safeEvent({ method: 'GET', path: `/safe/backups/${id}` }))).statusCode).toBe(404);
    expect((await safe(safeEvent({ method: 'HEAD', path: `/safe/backups/${id}` }))).statusCode).toBe(404);
    expect(await stored(id)).toEqual(body);
    // One day short of expiry it is served.
    now = Date.now() + (RETENTION - 1) * DAY;
    expect((await safe(safeEvent({ method: 'GET', path: `/safe/backups/${id}` }))).statusCode).toBe(200);
    // A new PUT restarts the clock.
    now = Date.now();
    await safe(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body }));
    now = Date.now() + (RETENTION - 1) * DAY;
    expect((await safe(safeEvent({ method: 'GET', path: `/safe/backups/${id}` }))).statusCode).toBe(200);
    now = Date.now();
  });
});

describe('Safe: Basic auth', () => {
  let locked: HttpHandler;
  const good = basic(AUTH.username, AUTH.password);

  beforeAll(() => {
    locked = handler({ basicAuth: { kind: 'digest', digest: basicAuthDigest(AUTH) } });
  });

  it('answers a request without credentials with 401 and a Basic challenge, for every route', async () => {
    for (const [method, path] of [
      ['GET', '/safe/config'],
      ['GET', `/safe/backups/${newId()}`],
      ['PUT', `/safe/backups/${newId()}`],
      ['POST', '/safe/anything'],
    ] as const) {
      const result = await locked(
        safeEvent({ method, path, ...(method === 'PUT' ? { body: randomBytes(5) } : {}) }),
      );
      expect(result.statusCode, `${method} ${path}`).toBe(401);
      expect(result.headers?.['www-authenticate']).toMatch(/^Basic realm="[^"]+"$/);
    }
  });

  it('refuses wrong credentials with 401 and stores nothing', async () => {
    const id = trackedId();
    for (const header of [
      basic(AUTH.username, 'wrong'),
      basic('someone', AUTH.password),
      'Basic',
      `Bearer ${good.slice(6)}`,
    ]) {
      const result = await locked(
        safeEvent({
          method: 'PUT',
          path: `/safe/backups/${id}`,
          body: randomBytes(5),
          headers: { authorization: header },
        }),
      );
      expect(result.statusCode).toBe(401);
      expect(result.headers?.['www-authenticate']).toMatch(/^Basic /);
    }
    expect(await stored(id)).toBeUndefined();
  });

  it('serves a client with the right credentials', async () => {
    const id = trackedId();
    const body = randomBytes(64);
    const headers = { authorization: good };
    expect((await locked(safeEvent({ method: 'GET', path: '/safe/config', headers }))).statusCode).toBe(200);
    expect(
      (await locked(safeEvent({ method: 'PUT', path: `/safe/backups/${id}`, body, headers }))).statusCode,
    ).toBe(200);
    const get = await locked(safeEvent({ method: 'GET', path: `/safe/backups/${id}`, headers }));
    expect(get.statusCode).toBe(200);
    expect(resultBytes(get)).toEqual(body);
  });

  it('checks the size before the credentials', async () => {
    const result = await locked(
      safeEvent({ method: 'PUT', path: `/safe/backups/${newId()}`, body: randomBytes(MAX + 1) }),
    );
    expect(result.statusCode).toBe(413);
  });
});

describe('Safe: storage failures', () => {
  it('answer 503 with a generic message that names nothing', async () => {
    const id = newId();
    const broken = handler({}, 'no-such-bucket-here');
    for (const method of ['PUT', 'GET'] as const) {
      const result = await broken(
        safeEvent({
          method,
          path: `/safe/backups/${id}`,
          ...(method === 'PUT' ? { body: randomBytes(5) } : {}),
        }),
      );
      expect(result.statusCode).toBeGreaterThanOrEqual(500);
      expect(result.body).not.toContain(id);
      expect(result.body).not.toContain('no-such-bucket');
    }
  });
});

describe('Safe: the S3 adapter', () => {
  it('keeps one object per backup under the schema prefix, and reports absence as undefined', async () => {
    const store = s3BackupStore(resources.clients.s3, resources.bucket);
    const id = trackedId();
    expect(await store.get(id)).toBeUndefined();
    expect(await store.head(id)).toBeUndefined();
    await store.put(id, new Uint8Array([9, 8, 7]));
    expect(backupKey(id)).toBe(`backups/${id}`);
    expect(await stored(id)).toEqual(Buffer.from([9, 8, 7]));
    const meta = await store.head(id);
    expect(meta?.size).toBe(3);
    expect(Math.abs(meta!.lastModified - Date.now())).toBeLessThan(10 * 60_000);
    await store.delete(id);
    await store.delete(id);
    expect(await store.get(id)).toBeUndefined();
  });
});

describe('Safe: logs', () => {
  it('never carry a backup id, credentials, an IP or a body', () => {
    expect(logLines.length).toBeGreaterThan(20);
    const forbidden = [
      ...ids,
      ...ids.map((id) => id.toUpperCase()),
      AUTH.username,
      AUTH.password,
      basic(AUTH.username, AUTH.password).slice(6),
      '192.0.2.1',
    ];
    for (const line of logLines) {
      for (const secret of forbidden) expect(line).not.toContain(secret);
      expect(Object.keys(JSON.parse(line))).not.toContain('body');
    }
    expect(logLines.some((line) => line.includes('"route":"ANY /safe/backups/{id}"'))).toBe(true);
    expect(logLines.some((line) => line.includes('"status":401'))).toBe(true);
  });
});
