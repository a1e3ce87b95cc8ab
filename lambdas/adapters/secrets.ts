/**
 * The Safe's Basic auth credentials from Secrets Manager. The secret's value is JSON:
 *
 *   {"username": "<no colon>", "password": "<non-empty>"}
 *
 * Read once per container, on first use. Neither the value nor the ARN ever appears in an error
 * message or a log line.
 */
import { serverSecretKeyFromString } from '../../protocol/server-key.ts';
import { type BasicAuthCredentials, checkBasicAuthCredentials } from '../domain/safe.ts';
import { translateAwsError } from './errors.ts';

export class SecretFormatError extends Error {
  constructor() {
    super(
      'The Safe Basic auth secret must be JSON {"username": "...", "password": "..."} (username without ":")',
    );
    this.name = 'SecretFormatError';
  }
}

/** Parses the secret's string value; throws SecretFormatError (which never quotes the value). */
export function parseBasicAuthSecret(secretString: string | undefined): BasicAuthCredentials {
  if (typeof secretString !== 'string' || secretString.length > 65_536) throw new SecretFormatError();
  let value: unknown;
  try {
    value = JSON.parse(secretString);
  } catch {
    throw new SecretFormatError();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SecretFormatError();
  const { username, password } = value as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string') throw new SecretFormatError();
  try {
    return checkBasicAuthCredentials({ username, password });
  } catch {
    throw new SecretFormatError();
  }
}

/**
 * Reads a secret's string value (`GetSecretValue`): lambdas/runtime/sdk/secrets.ts and
 * secrets-lazy.ts implement it, the second loading the SDK client on first use.
 */
export type SecretReader = (secretArn: string) => Promise<string | undefined>;

/** Fetches and parses the secret. AWS failures become `unavailable`/`rate_limited`. */
export async function readBasicAuthSecret(
  read: SecretReader,
  secretArn: string,
): Promise<BasicAuthCredentials> {
  return parseBasicAuthSecret(await translateAwsError(() => read(secretArn)));
}

export async function readServerKeySecret(read: SecretReader, secretArn: string): Promise<Uint8Array> {
  return serverSecretKeyFromString(await translateAwsError(() => read(secretArn)));
}
