/**
 * The runner's backing services: DynamoDB Local and s3rver, started under the data folder or given
 * as endpoints of ones already running (the tests share one of each), and the runner's tables and
 * bucket in them, created from the schema module under the runner's name prefix.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  LOCAL_NAME_PREFIX,
  localMediaBucket,
  localSafeBucket,
  localTableName,
  TABLE_NAMES,
  type TableName,
} from '../contract/schema.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { type DynamoJit, startDynamoLocal } from './dynamodb.ts';
import { ensureBucket, ensureTables } from './provision.ts';
import { startS3Local } from './s3.ts';

export interface ServiceEndpoints {
  readonly dynamodb: string;
  readonly s3: string;
}

/** The physical names of one runner's tables and bucket. */
export interface LocalNames {
  readonly tables: Readonly<Record<TableName, string>>;
  readonly safeBucket: string;
  readonly mediaBucket: string;
}

export function localNames(prefix = ''): LocalNames {
  if (!LOCAL_NAME_PREFIX.test(prefix))
    throw new Error('The runner name prefix must be lowercase letters, digits and inner hyphens (≤ 32).');
  const tables = Object.fromEntries(TABLE_NAMES.map((table) => [table, localTableName(table, prefix)]));
  return {
    tables: tables as Record<TableName, string>,
    safeBucket: localSafeBucket(prefix),
    mediaBucket: localMediaBucket(prefix),
  };
}

export interface BackingServices {
  readonly endpoints: ServiceEndpoints;
  /** Stops the services this runner started; ones it was given keep running. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and s3rver persisting under `dataDir`, or adopts `given` ones.
 * `onWaiting` hears every 15 s that DynamoDB Local is still starting.
 */
export async function startBackingServices(options: {
  readonly dataDir: string;
  readonly given?: ServiceEndpoints;
  readonly jit?: DynamoJit;
  readonly onWaiting?: (seconds: number) => void;
}): Promise<BackingServices> {
  if (options.given) return { endpoints: options.given, stop: async () => {} };
  const [dynamo, s3] = await Promise.allSettled([
    startDynamoLocal({
      dataDir: options.dataDir,
      ...(options.jit ? { jit: options.jit } : {}),
      ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
    }),
    startS3Local({ dataDir: options.dataDir }),
  ]);
  if (dynamo.status === 'rejected' || s3.status === 'rejected') {
    await Promise.all(
      [dynamo, s3].map((started) => (started.status === 'fulfilled' ? started.value.stop() : undefined)),
    );
    throw dynamo.status === 'rejected' ? dynamo.reason : (s3 as PromiseRejectedResult).reason;
  }
  return {
    endpoints: { dynamodb: dynamo.value.endpoint, s3: s3.value.endpoint },
    stop: async () => {
      await s3.value.stop().catch(() => {});
      await dynamo.value.stop().catch(() => {});
    },
  };
}

/** Creates the runner's tables and buckets where missing, as the CDK stateful stack does on AWS. */
export async function provisionNames(
  endpoints: ServiceEndpoints,
  s3: S3Client,
  names: LocalNames,
): Promise<void> {
  const provisioner = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await ensureTables(provisioner, (table) => names.tables[table]);
  } finally {
    provisioner.destroy();
  }
  await ensureBucket(s3, names.safeBucket);
  await ensureBucket(s3, names.mediaBucket);
}
