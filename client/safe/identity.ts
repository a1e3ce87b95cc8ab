/**
 * An identity as a Threema Safe backup and back: the backup carries the identity's secret key in
 * `user.privatekey` (and contacts, for clients that keep them), in the Threema apps' format. Shared
 * by the CLI (`switchyard safe`) and the browser client.
 */
import { fromBase64, toBase64, toHex } from '../../protocol/bytes.ts';
import { type KeyPair, keyPairFromSecret } from '../../protocol/crypto.ts';
import { type IdentityKeys, KeyFileError } from '../identity-record.ts';
import type { SafeBackup } from './format.ts';

/**
 * How far a contact's key is trusted, as Threema counts it (the backup's `verification` field):
 * 0 the key came from the directory, 1 the directory matched it to a linked phone number or e-mail
 * address, 2 verified in person (fingerprints compared or a QR code scanned).
 */
export type VerificationLevel = 0 | 1 | 2;

/** A contact as a Threema Safe backup lists it. */
export interface BackupContact {
  readonly identity: string;
  readonly publicKey: Uint8Array;
  /** The name this user gave the contact (the backup's `firstname`, a local name); default none. */
  readonly name?: string;
  /** Default 0. */
  readonly verification?: VerificationLevel;
}

const ID_PATTERN = /^[0-9A-Z]{8}$/;
/** Longest local contact name kept (characters). */
export const MAX_CONTACT_NAME_CHARS = 64;

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
      verification: contact.verification ?? 0,
      ...(contact.name ? { firstname: contact.name } : {}),
      hidden: false,
    })),
  };
}

/**
 * The usable contacts of a backup: an 8-character ID and a 32-byte key each; a verification level
 * outside 0–2 counts as 0, and the local name is `firstname` and `lastname` joined (what the Threema
 * apps show), else their `nickname`. Anything else is skipped, not refused: a backup written by
 * another app may carry entries this client cannot use.
 */
export function contactsFromBackup(backup: SafeBackup): BackupContact[] {
  const out: BackupContact[] = [];
  for (const entry of backup.contacts ?? []) {
    const contact = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const { identity, publickey, verification } = contact;
    const publicKey = typeof publickey === 'string' ? fromBase64(publickey) : undefined;
    if (typeof identity !== 'string' || !ID_PATTERN.test(identity) || publicKey?.length !== 32) continue;
    const text = (key: string) => (typeof contact[key] === 'string' ? (contact[key] as string).trim() : '');
    const name = ([text('firstname'), text('lastname')].filter(Boolean).join(' ') || text('nickname')).slice(
      0,
      MAX_CONTACT_NAME_CHARS,
    );
    const level = verification === 1 || verification === 2 ? verification : 0;
    out.push({ identity, publicKey, verification: level, ...(name ? { name } : {}) });
  }
  return out;
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
