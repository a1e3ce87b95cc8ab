/**
 * Whether the tables and the buckets answer, without reading user data: a GetItem per table on a
 * key no item ever has (`#health`: identities, mailbox recipients and connection ids are other
 * shapes) and, in each bucket, a GET of an object nothing stores (backup names are 64 hex digits,
 * blob names 32). "Not there" is the healthy answer; any other failure is not.
 */
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { MEDIA_BUCKET, SAFE_BUCKET, TABLES, type TableName } from '../../contract/schema.ts';

const PROBE = '#health';

export interface HealthProbe {
  /** Resolves when every table and bucket answered; rejects with the first failure. */
  check(): Promise<void>;
}

export function awsHealthProbe(options: {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tables: Readonly<Partial<Record<TableName, string>>>;
  readonly s3: S3Client;
  /** The Safe's bucket. */
  readonly bucket: string;
  /** The media bucket, where the deployment has one. */
  readonly mediaBucket?: string;
}): HealthProbe {
  const table = async (name: TableName, physical: string) => {
    const schema = TABLES[name];
    const key: Record<string, string> = { [schema.partitionKey.name]: PROBE };
    if ('sortKey' in schema) key[schema.sortKey.name] = PROBE;
    await options.dynamo.send(new GetCommand({ TableName: physical, Key: key }));
  };
  const bucket = async (name: string, prefix: string) => {
    try {
      await options.s3.send(new GetObjectCommand({ Bucket: name, Key: `${prefix}${PROBE}` }));
    } catch (error) {
      // No s3:ListBucket: a missing object reads as AccessDenied, which is as healthy as NoSuchKey.
      const name = (error as { name?: string }).name;
      if (!(error instanceof NoSuchKey) && name !== 'NoSuchKey' && name !== 'AccessDenied') throw error;
    }
  };
  return {
    async check() {
      await Promise.all([
        ...Object.entries(options.tables).map(([name, physical]) => table(name as TableName, physical!)),
        bucket(options.bucket, SAFE_BUCKET.backupPrefix),
        ...(options.mediaBucket ? [bucket(options.mediaBucket, MEDIA_BUCKET.blobPrefix)] : []),
      ]);
    },
  };
}
