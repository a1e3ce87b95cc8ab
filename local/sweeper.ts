/**
 * What AWS does in the background and the local stand-ins do not: DynamoDB TTL deletion and S3
 * lifecycle expiry. Like AWS, it runs on its own schedule, and no handler depends on when: every
 * read already treats expired items and backups as gone. A Scan is fine here — this stands in for
 * AWS's own TTL process, not for any per-message operation.
 */

import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SAFE_BUCKET, TABLE_NAMES, TABLES, type TableName } from '../contract/schema.ts';
import { epochSeconds } from '../lambdas/domain/clock.ts';

export interface SweepTargets {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly tableName: (table: TableName) => string;
  readonly bucket: string;
  readonly retentionDays: number;
  readonly now: () => number;
}

export interface SweepCounts {
  items: number;
  backups: number;
}

/** Deletes every item whose TTL attribute lies in the past, in every table that has one. */
export async function sweepExpiredItems(targets: SweepTargets): Promise<number> {
  let deleted = 0;
  const now = epochSeconds(targets.now());
  for (const table of TABLE_NAMES) {
    const schema = TABLES[table];
    if (!('ttlAttribute' in schema)) continue;
    const keys = [schema.partitionKey.name, ...('sortKey' in schema ? [schema.sortKey.name] : [])];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await targets.dynamo.send(
        new ScanCommand({
          TableName: targets.tableName(table),
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: {
            '#ttl': schema.ttlAttribute,
            ...Object.fromEntries(keys.map((k, i) => [`#k${i}`, k])),
          },
          ExpressionAttributeValues: { ':now': now },
          ProjectionExpression: keys.map((_, i) => `#k${i}`).join(', '),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        await targets.dynamo.send(new DeleteCommand({ TableName: targets.tableName(table), Key: item }));
        deleted++;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return deleted;
}

/** Deletes backups last written more than `retentionDays` ago, as the bucket's lifecycle rule does. */
export async function sweepExpiredBackups(targets: SweepTargets): Promise<number> {
  let deleted = 0;
  const cutoff = targets.now() - targets.retentionDays * 86_400_000;
  let token: string | undefined;
  do {
    const page = await targets.s3.send(
      new ListObjectsV2Command({
        Bucket: targets.bucket,
        Prefix: SAFE_BUCKET.backupPrefix,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key && object.LastModified && object.LastModified.getTime() < cutoff) {
        await targets.s3.send(new DeleteObjectCommand({ Bucket: targets.bucket, Key: object.Key }));
        deleted++;
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}

export async function sweepOnce(targets: SweepTargets): Promise<SweepCounts> {
  return { items: await sweepExpiredItems(targets), backups: await sweepExpiredBackups(targets) };
}

/** Runs a sweep every `intervalMs` (0 = never) until stopped; a failed sweep is retried next time. */
export function startSweeper(targets: SweepTargets, intervalMs: number, onError: (error: unknown) => void) {
  let running: Promise<unknown> = Promise.resolve();
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          running = sweepOnce(targets).catch(onError);
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
