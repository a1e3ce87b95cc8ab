/** `wsBlob`: sessions, the blob records and the media bucket (presigned URLs, deletion). */
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import { s3BlobStorage } from '../../adapters/blob-storage.ts';
import { dynamoBlobRecords } from '../../adapters/blobs.ts';
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { createMedia } from '../../domain/media.ts';
import { makeBlobHandler } from '../../handlers/ws-media.ts';
import { ConfigError, ENV, type RuntimeConfig } from '../env.ts';
import { wsStack } from '../middlewares.ts';
import { type Base, chatWith, type DynamoClients, tableName } from './shared.ts';

export function composeWsBlob(
  config: RuntimeConfig,
  clients: DynamoClients & { readonly s3: S3Client; readonly s3Signer: S3Client },
  base: Base,
) {
  if (!config.mediaBucket) throw new ConfigError(ENV.mediaBucket, 'is not configured for this function');
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
  });
  const media = createMedia({
    records: dynamoBlobRecords(clients.dynamo, tableName(config, 'blobs')),
    storage: s3BlobStorage({ s3: clients.s3, signer: clients.s3Signer }, config.mediaBucket),
    clock: base.clock,
    random: base.random,
    ...config.media,
  });
  return middy(
    makeBlobHandler({
      chat,
      media,
      maxBlobBytes: config.media.maxBlobBytes,
      random: base.random,
      log: base.log,
    }),
  ).use(wsStack(base, LIMITS.wsMessageBytes));
}
