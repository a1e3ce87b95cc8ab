/**
 * The encrypted backup body (protocol/safe.ts draws it):
 *
 *   nonce (24 random bytes) ‖ secretbox(gzip(JSON UTF-8), nonce, encryptionKey)
 *
 * gzip runs at level 0 (stored, not compressed) like the Android and iOS apps do, so the size of
 * the body does not depend on how compressible its content is.
 */
import { DecryptionError, randomBytes, secretboxOpen, secretboxSeal } from '../../protocol/crypto.ts';
import { SAFE_KEY_BYTES, SAFE_MIN_BODY_BYTES, SAFE_NONCE_BYTES } from '../../protocol/safe.ts';
import { gunzip, gzipStored } from '../platform/node.ts';
import { BackupFormatError, InvalidInputError, WrongPasswordError } from './errors.ts';
import { MAX_BACKUP_JSON_CHARS } from './format.ts';

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== SAFE_KEY_BYTES)
    throw new InvalidInputError('A Safe encryption key is 32 bytes.');
}

/**
 * Encrypts backup JSON into a Safe body with a fresh random nonce (a nonce must never repeat
 * under one key, and the key stays the same for as long as the password does).
 */
export function encryptSafeBackup(
  json: string,
  key: Uint8Array,
  nonce: Uint8Array = randomBytes(SAFE_NONCE_BYTES),
): Uint8Array {
  checkKey(key);
  if (nonce.length !== SAFE_NONCE_BYTES) throw new InvalidInputError('A Safe nonce is 24 bytes.');
  const compressed = gzipStored(new TextEncoder().encode(json));
  const box = secretboxSeal(compressed, nonce, key);
  const body = new Uint8Array(SAFE_NONCE_BYTES + box.length);
  body.set(nonce, 0);
  body.set(box, SAFE_NONCE_BYTES);
  return body;
}

/**
 * Decrypts a Safe body into its JSON text.
 *
 * @throws WrongPasswordError when the secretbox does not open; BackupFormatError when the bytes are
 *   too short to be a backup or the content is not gzip'd UTF-8.
 */
export function decryptSafeBackup(body: Uint8Array, key: Uint8Array): string {
  checkKey(key);
  if (body.length < SAFE_MIN_BODY_BYTES)
    throw new BackupFormatError('The server returned data too short to be a Threema Safe backup.');
  let compressed: Uint8Array;
  try {
    compressed = secretboxOpen(body.subarray(SAFE_NONCE_BYTES), body.subarray(0, SAFE_NONCE_BYTES), key);
  } catch (error) {
    if (error instanceof DecryptionError) throw new WrongPasswordError({ cause: error });
    throw error;
  }
  let plain: Uint8Array;
  try {
    plain = gunzip(compressed, MAX_BACKUP_JSON_CHARS);
  } catch (cause) {
    throw new BackupFormatError('The backup decrypted, but its content is not gzip data.', { cause });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch (cause) {
    throw new BackupFormatError('The backup decrypted, but its content is not UTF-8 text.', { cause });
  }
}
