/** The runner's stand-in for DynamoDB TTL and S3 lifecycle expiry, against the real embedded servers. */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONNECTIONS, IDENTITIES, MAILBOX, SAFE_BUCKET } from '../../contract/schema.ts';
import { type SweepTargets, sweepExpiredBackups, sweepExpiredItems } from '../../local/sweeper.ts';
import { freshResources, type TestResources } from '../support/aws.ts';

let resources: TestResources;
const nowSeconds = () => Math.floor(Date.now() / 1000);

function targets(now: number, retentionDays = 180): SweepTargets {
  return {
    dynamo: resources.clients.dynamo,
    s3: resources.clients.s3,
    tableName: (table) => resources.tables[table],
    bucket: resources.bucket,
    retentionDays,
    now: () => now,
  };
}

beforeAll(async () => {
  resources = await freshResources();
});

describe('TTL sweeper', () => {
  it('deletes items whose TTL has passed and keeps the rest, in every table with a TTL', async () => {
    const { dynamo } = resources.clients;
    const put = (table: string, item: Record<string, unknown>) =>
      dynamo.send(new PutCommand({ TableName: table, Item: item }));
    await put(resources.tables.connections, {
      [CONNECTIONS.attributes.connectionId]: 'old',
      [CONNECTIONS.attributes.expiresAt]: nowSeconds() - 10,
    });
    await put(resources.tables.connections, {
      [CONNECTIONS.attributes.connectionId]: 'new',
      [CONNECTIONS.attributes.expiresAt]: nowSeconds() + 3600,
    });
    await put(resources.tables.mailbox, {
      [MAILBOX.attributes.recipient]: 'R',
      [MAILBOX.attributes.key]: '1',
      [MAILBOX.attributes.expiresAt]: nowSeconds() - 1,
    });
    await put(resources.tables.mailbox, {
      [MAILBOX.attributes.recipient]: 'R',
      [MAILBOX.attributes.key]: '2',
      [MAILBOX.attributes.expiresAt]: nowSeconds() + 60,
    });
    await put(resources.tables.identities, { [IDENTITIES.attributes.identity]: 'KEEPME00' });

    expect(await sweepExpiredItems(targets(Date.now()))).toBe(2);

    const get = (table: string, key: Record<string, unknown>) =>
      dynamo.send(new GetCommand({ TableName: table, Key: key }));
    expect((await get(resources.tables.connections, { connectionId: 'old' })).Item).toBeUndefined();
    expect((await get(resources.tables.connections, { connectionId: 'new' })).Item).toBeDefined();
    expect((await get(resources.tables.mailbox, { recipient: 'R', key: '1' })).Item).toBeUndefined();
    expect((await get(resources.tables.mailbox, { recipient: 'R', key: '2' })).Item).toBeDefined();
    expect((await get(resources.tables.identities, { identity: 'KEEPME00' })).Item).toBeDefined();
  });
});

describe('lifecycle sweeper', () => {
  it('deletes backups last written more than retentionDays ago, and nothing else', async () => {
    const { s3 } = resources.clients;
    const key = `${SAFE_BUCKET.backupPrefix}${'a'.repeat(64)}`;
    await s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: key, Body: Buffer.from('backup') }));
    await s3.send(
      new PutObjectCommand({ Bucket: resources.bucket, Key: 'other/file', Body: Buffer.from('x') }),
    );

    expect(await sweepExpiredBackups(targets(Date.now() + 179 * 86_400_000))).toBe(0);
    expect(await sweepExpiredBackups(targets(Date.now() + 181 * 86_400_000))).toBe(1);

    await expect(s3.send(new GetObjectCommand({ Bucket: resources.bucket, Key: key }))).rejects.toMatchObject(
      { name: 'NoSuchKey' },
    );
    const other = await s3.send(new GetObjectCommand({ Bucket: resources.bucket, Key: 'other/file' }));
    expect(await other.Body!.transformToString()).toBe('x');
  });
});
