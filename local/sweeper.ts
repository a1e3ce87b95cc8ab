/**
 * What AWS does in the background and the local stand-ins do not: DynamoDB TTL deletion and S3
 * lifecycle expiry (the Safe bucket's backups, the media bucket's blobs). Like AWS, it runs on its own schedule, and no handler depends on when: every
 * read already treats expired items and backups as gone. A Scan is fine here — this stands in for
 * AWS's own TTL process, not for any per-message operation.
 */

import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { MEDIA_BUCKET, SAFE_BUCKET, TABLE_NAMES, TABLES, type TableName } from '../contract/schema.ts';
import { epochSeconds } from '../lambdas/domain/clock.ts';

export interface SweepTargets {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly tableName: (table: TableName) => string;
  readonly bucket: string;
  readonly retentionDays: number;
  /** The media bucket and the days its blobs live; absent, it is not swept. */
  readonly mediaBucket?: string;
  readonly mediaTtlDays?: number;
  readonly now: () => number;
}

export interface SweepCounts {
  items: number;
  backups: number;
  blobs: number;
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

/** Deletes the objects under `prefix` created more than `days` ago, as a lifecycle expiration rule does. */
async function sweepExpiredObjects(
  targets: SweepTargets,
  bucket: string,
  prefix: string,
  days: number,
): Promise<number> {
  let deleted = 0;
  const cutoff = targets.now() - days * 86_400_000;
  let token: string | undefined;
  do {
    const page = await targets.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key && object.LastModified && object.LastModified.getTime() < cutoff) {
        await targets.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
        deleted++;
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}

/** Deletes backups last written more than `retentionDays` ago, as the bucket's lifecycle rule does. */
export function sweepExpiredBackups(targets: SweepTargets): Promise<number> {
  return sweepExpiredObjects(targets, targets.bucket, SAFE_BUCKET.backupPrefix, targets.retentionDays);
}

/** Deletes blobs uploaded more than `mediaTtlDays` ago, as the media bucket's lifecycle rule does. */
export async function sweepExpiredBlobs(targets: SweepTargets): Promise<number> {
  if (!targets.mediaBucket || targets.mediaTtlDays === undefined) return 0;
  return sweepExpiredObjects(targets, targets.mediaBucket, MEDIA_BUCKET.blobPrefix, targets.mediaTtlDays);
}

export async function sweepOnce(targets: SweepTargets): Promise<SweepCounts> {
  return {
    items: await sweepExpiredItems(targets),
    backups: await sweepExpiredBackups(targets),
    blobs: await sweepExpiredBlobs(targets),
  };
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
