/**
 * An identity as a Threema Safe backup and back: the backup carries the identity's secret key in
 * `user.privatekey` (and contacts, for clients that keep them), in the Threema apps' format. Shared
 * by the CLI (`switchyard safe`) and the browser client.
 */
import { fromBase64, toBase64, toHex } from '../../protocol/bytes.ts';
import { type KeyPair, keyPairFromSecret } from '../../protocol/crypto.ts';
import { type IdentityKeys, KeyFileError } from '../identity-record.ts';
import type { SafeBackup } from './format.ts';

/** A contact as a Threema Safe backup lists it. */
export interface BackupContact {
  readonly identity: string;
  readonly publicKey: Uint8Array;
}

/** The Threema Safe backup of `me`: its secret key, its ID as nickname, and `contacts`. */
export function identityBackup(
  me: IdentityKeys,
  options: { readonly device: string; readonly contacts?: readonly BackupContact[] },
): SafeBackup {
  return {
    info: { version: 1, device: options.device },
    user: { privatekey: toBase64(me.keys.secretKey), nickname: me.identity },
    settings: {},
    contacts: (options.contacts ?? []).map((contact) => ({
      identity: contact.identity,
      publickey: toBase64(contact.publicKey),
      verification: 0,
      hidden: false,
    })),
  };
}

/** A backup whose key can't become this ID's identity, and why. */
export class BackupKeyError extends KeyFileError {
  constructor(
    readonly reason: 'no_key' | 'not_active' | 'other_key',
    message: string,
  ) {
    super(message, 'damaged');
    this.name = 'BackupKeyError';
  }
}

/**
 * The key pair a backup holds, checked against the public key the directory has for the ID
 * (`registered`; undefined: the ID is not active there): a backup of another key would be refused
 * by the chat server at login. Throws BackupKeyError saying which check failed.
 */
export function keysFromBackup(backup: SafeBackup, registered: Uint8Array | undefined): KeyPair {
  const secretKey = fromBase64(backup.user.privatekey);
  if (secretKey?.length !== 32) throw new BackupKeyError('no_key', 'The backup holds no usable key.');
  const keys = keyPairFromSecret(secretKey);
  if (!registered) throw new BackupKeyError('not_active', 'This ID is not active on this server.');
  if (toHex(registered) !== toHex(keys.publicKey))
    throw new BackupKeyError('other_key', "The backup's key is not the key this ID is registered with.");
  return keys;
}
