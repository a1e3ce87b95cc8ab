/**
 * Secrets Manager, for functions that read a secret on every cold start (the chat handshake's server
 * key, the server-public-key custom resource): loaded with the function.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretReader } from '../../adapters/secrets.ts';
import { type ClientOptions, commonConfig } from './options.ts';

export function createSecretReader(options: ClientOptions = {}): SecretReader {
  const client = new SecretsManagerClient(commonConfig(options));
  return async (secretArn) =>
    (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
}
