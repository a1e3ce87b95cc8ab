/**
 * Secrets Manager loaded on the first read, for a secret only some deployments configure (the Safe's
 * Basic auth): an open Safe, the default, never loads the package.
 */
import type { SecretReader } from '../../adapters/secrets.ts';
import { type ClientOptions, commonConfig } from './options.ts';

export function createLazySecretReader(options: ClientOptions = {}): SecretReader {
  let reader: Promise<SecretReader> | undefined;
  return async (secretArn) => {
    reader ??= import('@aws-sdk/client-secrets-manager').then(
      ({ SecretsManagerClient, GetSecretValueCommand }) => {
        const client = new SecretsManagerClient(commonConfig(options));
        return async (arn) => (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      },
    );
    return (await reader)(secretArn);
  };
}
