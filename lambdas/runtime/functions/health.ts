/** `health` (`GET /health`): one read of nothing per table and per bucket. */
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { TABLE_NAMES } from '../../../contract/schema.ts';
import { awsHealthProbe } from '../../adapters/health.ts';
import { makeHealthHandler } from '../../handlers/health.ts';
import { ConfigError, ENV, type RuntimeConfig } from '../env.ts';
import { httpStack } from '../middlewares.ts';
import { type Base, type DynamoClients, tableName } from './shared.ts';

export function composeHealth(
  config: RuntimeConfig,
  clients: DynamoClients & { readonly s3: S3Client },
  base: Base,
) {
  if (!config.safeBucket) throw new ConfigError(ENV.safeBucket, 'is not configured for this function');
  const probe = awsHealthProbe({
    dynamo: clients.dynamo,
    tables: Object.fromEntries(TABLE_NAMES.map((table) => [table, tableName(config, table)])),
    s3: clients.s3,
    bucket: config.safeBucket,
    ...(config.mediaBucket ? { mediaBucket: config.mediaBucket } : {}),
  });
  return middy(makeHealthHandler({ probe })).use(httpStack(base, 0));
}
