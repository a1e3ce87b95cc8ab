/**
 * Where the push providers' credentials come from: given (the local runner read them from its data
 * folder or from files) or Secrets Manager (AWS). The VAPID key pair's secret is created empty by the
 * stack and filled on first use, like the vault's setup: the first write wins (a fixed client
 * request token), the others read the winner's back. Errors name the credential, never its value.
 */
import type { CredentialSource } from '../../runtime/env.ts';
import { translateAwsError } from '../errors.ts';
import type { SecretReader } from '../secrets.ts';
import { loadWriteOnce, type WriteOnceSecret } from '../write-once-secret.ts';
import { createVapidKeyFile, type VapidKeys, vapidKeys } from './webpush.ts';

/** The client request token of the VAPID secret's one write. */
export const VAPID_REQUEST_TOKEN = 'switchyard-push-vapid-key-pair-version-0001';

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function validVapid(text: string | undefined): VapidKeys | undefined {
  try {
    return vapidKeys(parseJson(text));
  } catch {
    return undefined;
  }
}

/** The VAPID key pair from a secret, made and stored on first use. */
export function loadVapidSecret(secret: WriteOnceSecret): Promise<VapidKeys> {
  return loadWriteOnce(secret, validVapid, () => JSON.stringify(createVapidKeyFile()));
}

/** A JSON credential (FCM service account, APNs key), given or read from its secret, then checked. */
export async function loadCredential<T>(
  source: CredentialSource,
  read: SecretReader,
  check: (value: unknown) => T,
): Promise<T> {
  if (source.kind === 'value') return check(source.value);
  return check(parseJson(await translateAwsError(() => read(source.secretArn))));
}
