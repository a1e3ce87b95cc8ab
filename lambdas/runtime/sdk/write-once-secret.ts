/** A write-once secret through Secrets Manager (the vault's setup, the push functions' VAPID key pair). */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { WriteOnceSecret } from '../../adapters/write-once-secret.ts';
import { type ClientOptions, commonConfig } from './options.ts';

/**
 * A secret the stack creates empty and a function fills on first use, once (`requestToken` makes the
 * first write win): the vault's OPRF setup, and the push functions' VAPID key pair.
 */
export function createWriteOnceSecret(
  secretArn: string,
  requestToken: string,
  options: ClientOptions = {},
): WriteOnceSecret {
  const client = new SecretsManagerClient(commonConfig(options));
  return {
    async read() {
      try {
        return (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
      } catch (error) {
        // The stack creates the secret empty: no value yet until the first setup is written.
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
    },
    async initialise(value) {
      try {
        await client.send(
          new PutSecretValueCommand({
            SecretId: secretArn,
            SecretString: value,
            ClientRequestToken: requestToken,
          }),
        );
        return true;
      } catch (error) {
        // Another container wrote its setup under the same token first.
        if (error instanceof ResourceExistsException) return false;
        throw error;
      }
    },
  };
}
