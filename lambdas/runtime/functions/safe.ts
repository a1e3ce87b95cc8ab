/** `safe`: the Safe bucket, and the Basic auth secret when the deployment configures one. */
import type { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { s3BackupStore } from '../../adapters/backups.ts';
import { makeSafeHandler } from '../../handlers/safe.ts';
import { ConfigError, ENV, type RuntimeConfig } from '../env.ts';
import { httpStack } from '../middlewares.ts';
import { type Base, type SecretClients, safeAuthSource } from './shared.ts';

export function composeSafe(
  config: RuntimeConfig,
  clients: { readonly s3: S3Client } & SecretClients,
  base: Base,
) {
  if (!config.safeBucket) throw new ConfigError(ENV.safeBucket, 'is not configured for this function');
  const safeAuth = safeAuthSource(config, clients.secrets);
  const handler = middy(
    makeSafeHandler({
      backups: s3BackupStore(clients.s3, config.safeBucket),
      clock: base.clock,
      config,
      safeAuth,
    }),
  ).use(httpStack(base, config.safe.maxBackupBytes));
  return Object.assign(handler, { safeAuth });
}
