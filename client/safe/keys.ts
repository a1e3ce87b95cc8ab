/**
 * Threema Safe key derivation (protocol/safe.ts):
 *
 *   masterKey = scrypt(password UTF-8, salt = Threema ID UTF-8, N=65536, r=8, p=1, dkLen=64)
 *   backupId  = masterKey[0..32)   encryptionKey = masterKey[32..64)
 *
 * The backup id names the backup on the server; only someone who knows both the ID and the
 * password can compute it, which is what keeps the Safe anonymous.
 */
import {
  BACKUP_ID_BYTES,
  type BackupId,
  backupIdFromBytes,
  SAFE_MASTER_KEY_BYTES,
  SAFE_PASSWORD_CHARS,
  SAFE_SCRYPT,
} from '../../protocol/safe.ts';
import { scrypt } from '../platform/node.ts';
import { InvalidInputError } from './errors.ts';

export interface SafeKeys {
  /** Names the backup on the server. */
  readonly backupId: BackupId;
  /** The secretbox key of the backup body. Never leaves the client. */
  readonly encryptionKey: Uint8Array;
}

export interface DeriveOptions {
  /**
   * Called about every `progressIntervalMs` while scrypt runs (about 0.2 s on a laptop, seconds
   * on a slow phone), with the milliseconds elapsed, so callers can show that work is happening.
   */
  readonly onProgress?: (elapsedMs: number) => void;
  readonly progressIntervalMs?: number;
}

const IDENTITY_PATTERN = /^[0-9A-Z]{8}$/;

/**
 * A Threema ID as the salt: 8 characters `[0-9A-Z]`. Surrounding spaces are dropped and lowercase
 * is raised, as the Threema apps do, since the salt is always the uppercase ID.
 */
export function normaliseSafeIdentity(identity: string): string {
  const id = typeof identity === 'string' ? identity.trim().toUpperCase() : '';
  if (!IDENTITY_PATTERN.test(id)) throw new InvalidInputError('A Threema ID is 8 characters: A–Z and 0–9.');
  return id;
}

/** Threema's bounds on Safe passwords: 8 to 4096 characters. */
export function checkSafePassword(password: string): void {
  if (typeof password !== 'string' || password.length < SAFE_PASSWORD_CHARS.min)
    throw new InvalidInputError(`A Safe password has at least ${SAFE_PASSWORD_CHARS.min} characters.`);
  if (password.length > SAFE_PASSWORD_CHARS.max)
    throw new InvalidInputError(`A Safe password has at most ${SAFE_PASSWORD_CHARS.max} characters.`);
}

/** The 64-byte scrypt master key for an identity and password (no input checks). */
export function deriveMasterKey(
  identity: string,
  password: string,
  options: DeriveOptions = {},
): Promise<Uint8Array> {
  const started = Date.now();
  const timer = options.onProgress
    ? setInterval(() => options.onProgress?.(Date.now() - started), options.progressIntervalMs ?? 100)
    : undefined;
  const utf8 = new TextEncoder();
  return scrypt(utf8.encode(password), utf8.encode(identity), SAFE_SCRYPT, SAFE_MASTER_KEY_BYTES).finally(
    () => clearInterval(timer),
  );
}

/**
 * Derives the backup id and the encryption key for a Threema ID and Safe password. Runs scrypt
 * off the main thread in Node (in browsers it yields to the event loop); report progress with
 * `options.onProgress`.
 *
 * @throws InvalidInputError when the ID is not 8 characters [0-9A-Z] or the password is not 8–4096 characters.
 */
export async function deriveSafeKeys(
  identity: string,
  password: string,
  options: DeriveOptions = {},
): Promise<SafeKeys> {
  const id = normaliseSafeIdentity(identity);
  checkSafePassword(password);
  return splitMasterKey(await deriveMasterKey(id, password, options));
}

/** Backup id and encryption key from a 64-byte master key. */
export function splitMasterKey(masterKey: Uint8Array): SafeKeys {
  if (masterKey.length !== SAFE_MASTER_KEY_BYTES)
    throw new InvalidInputError('A Safe master key is 64 bytes.');
  return {
    backupId: backupIdFromBytes(masterKey.subarray(0, BACKUP_ID_BYTES)),
    encryptionKey: masterKey.slice(BACKUP_ID_BYTES),
  };
}
