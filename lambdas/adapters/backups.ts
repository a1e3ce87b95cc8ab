/**
 * The Safe bucket behind BackupStore: one object per backup under `SAFE_BUCKET.backupPrefix`,
 * named by its backup id, holding exactly the bytes the client uploaded.
 *
 * A plain PutObject is atomic (readers see the old object or the new one, never a mix) and a failed
 * one leaves the old object in place, so a refused or broken upload never damages a backup. The
 * bucket keeps no versions, so an overwritten or deleted backup is gone.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SAFE_BUCKET } from '../../contract/schema.ts';
import type { BackupId } from '../../protocol/safe.ts';
import type { BackupMeta, BackupStore, StoredBackup } from '../domain/safe.ts';
import { translateAwsError } from './errors.ts';

/** The object key of a backup. */
export function backupKey(id: BackupId): string {
  return SAFE_BUCKET.backupPrefix + id;
}

const ABSENT_NAMES = new Set(['NoSuchKey', 'NotFound', 'AccessDenied', 'Forbidden']);

/**
 * Whether a GetObject/HeadObject failure means "no such backup". S3 answers 404 for a missing key
 * only to callers allowed `s3:ListBucket`; the Safe function is deliberately granted object actions
 * only, so on AWS a missing backup arrives as 403 AccessDenied. Both therefore mean absent. The
 * price: a genuine permission mistake also looks like "no backup" (GET/HEAD 404) rather than 503 —
 * the infra tests pin the grants, and PUT still fails loudly.
 */
export function isAbsentError(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  if (e === null || typeof e !== 'object') return false;
  // A missing bucket is a broken deployment, not a missing backup (HEAD cannot tell them apart).
  if (e.name === 'NoSuchBucket') return false;
  const status = e.$metadata?.httpStatusCode;
  return (typeof e.name === 'string' && ABSENT_NAMES.has(e.name)) || status === 404 || status === 403;
}

async function orAbsent<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isAbsentError(error)) return undefined;
    throw error;
  }
}

export function s3BackupStore(s3: S3Client, bucket: string): BackupStore {
  return {
    async put(id, bytes) {
      await translateAwsError(() =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: backupKey(id),
            Body: bytes,
            ContentLength: bytes.byteLength,
            ContentType: 'application/octet-stream',
          }),
        ),
      );
    },
    async get(id): Promise<StoredBackup | undefined> {
      return translateAwsError(() =>
        orAbsent(async () => {
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: backupKey(id) }));
          const bytes = object.Body ? await object.Body.transformToByteArray() : new Uint8Array(0);
          return { bytes, lastModified: object.LastModified?.getTime() ?? 0 };
        }),
      );
    },
    async head(id): Promise<BackupMeta | undefined> {
      return translateAwsError(() =>
        orAbsent(async () => {
          const object = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: backupKey(id) }));
          return { size: object.ContentLength ?? 0, lastModified: object.LastModified?.getTime() ?? 0 };
        }),
      );
    },
    async delete(id) {
      await translateAwsError(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: backupKey(id) })));
    },
  };
}
