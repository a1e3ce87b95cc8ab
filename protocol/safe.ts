/**
 * Threema Safe, as it crosses the wire: the facts the Safe server (lambdas/) and the client SDK
 * (client/safe/) share. A real Threema app talks to a Switchyard Safe server with exactly these.
 *
 * Endpoints, relative to a base URL that ends in `/` (locally `http://127.0.0.1:$PORT/safe/`):
 *
 *   GET    config              → 200 {"maxBackupBytes": int, "retentionDays": int}
 *   PUT    backups/<backupId>  → 200 {"status":"ok"}        body: the encrypted backup
 *   GET    backups/<backupId>  → 200 application/octet-stream, or 404
 *   HEAD   backups/<backupId>  → 200 with content-length, or 404
 *   DELETE backups/<backupId>  → 200 {"status":"deleted"}   (also when there was nothing to delete)
 *
 * A backup body, as stored and served (the server only ever sees these opaque bytes):
 *
 *   offset 0                  24                                        n
 *          ┌─────────────────┬─────────────────────────────────────────┐
 *          │ nonce (24 B)    │ secretbox(gzip(JSON), nonce, key)       │
 *          │ random          │ XSalsa20-Poly1305: MAC (16 B) ‖ cipher   │
 *          └─────────────────┴─────────────────────────────────────────┘
 *
 *   masterKey = scrypt(password UTF-8, salt = Threema ID UTF-8, N=65536, r=8, p=1, dkLen=64)
 *   backupId  = hex(masterKey[0..32))      key = masterKey[32..64)
 *
 * The JSON inside is described in client/safe/format.ts.
 */
import { toHex } from './bytes.ts';
import { SwitchyardError } from './errors.ts';
import { parseJsonObject } from './json.ts';
import { LIMITS } from './limits.ts';

/** A backup id is 32 bytes, the first half of the scrypt master key. */
export const BACKUP_ID_BYTES = 32;
/** …written as 64 lowercase hex characters in URLs and object keys. */
export const BACKUP_ID_CHARS = BACKUP_ID_BYTES * 2;
/** The encryption key is the second half of the master key. */
export const SAFE_KEY_BYTES = 32;
/** scrypt output: backup id ‖ encryption key. */
export const SAFE_MASTER_KEY_BYTES = BACKUP_ID_BYTES + SAFE_KEY_BYTES;
/** Key-derivation parameters every Threema client uses; changing any of them changes every id. */
export const SAFE_SCRYPT = { N: 65_536, r: 8, p: 1 } as const;
/** Bytes before the secretbox: the random nonce. */
export const SAFE_NONCE_BYTES = 24;
/** Poly1305 tag inside every secretbox. */
export const SAFE_MAC_BYTES = 16;
/** Shortest body that can possibly decrypt: nonce + tag (an empty plaintext is not a backup). */
export const SAFE_MIN_BODY_BYTES = SAFE_NONCE_BYTES + SAFE_MAC_BYTES;
/** Safe passwords, as Threema for Android bounds them (UTF-16 code units). */
export const SAFE_PASSWORD_CHARS = { min: 8, max: 4096 } as const;
/** The JSON schema version this code writes and the newest it reads. */
export const SAFE_SCHEMA_VERSION = 1;

declare const backupIdBrand: unique symbol;
/** 64 lowercase hex characters. Only {@link ensureBackupId} and {@link backupIdFromBytes} make one. */
export type BackupId = string & { readonly [backupIdBrand]: true };

const BACKUP_ID_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Accepts exactly 64 lowercase hex characters; anything else is `bad_request`.
 *
 * Uppercase is refused rather than normalised: every Threema client sends lowercase, and one
 * spelling per backup keeps object keys, logs-free metrics and tests unambiguous. Length is checked
 * before the pattern, so an arbitrarily long value costs nothing.
 */
export function ensureBackupId(value: unknown): BackupId {
  if (typeof value !== 'string' || value.length !== BACKUP_ID_CHARS || !BACKUP_ID_PATTERN.test(value)) {
    throw new SwitchyardError('bad_request');
  }
  return value as BackupId;
}

/** The backup id for the first {@link BACKUP_ID_BYTES} bytes of a master key. */
export function backupIdFromBytes(bytes: Uint8Array): BackupId {
  if (bytes.length !== BACKUP_ID_BYTES) throw new SwitchyardError('bad_request');
  return toHex(bytes) as BackupId;
}

/** What `GET config` answers. Both fields are required integers for every Threema client. */
export interface SafeConfig {
  /** Largest backup body the server accepts (bytes). */
  readonly maxBackupBytes: number;
  /** A backup expires this many days after its last successful PUT. */
  readonly retentionDays: number;
}

/** The conventional Threema Safe configuration. */
export const DEFAULT_SAFE_CONFIG: SafeConfig = {
  maxBackupBytes: LIMITS.safeMaxBackupBytesDefault,
  retentionDays: LIMITS.safeRetentionDaysDefault,
};

/** The `GET config` body, exactly as Threema clients parse it. */
export function encodeSafeConfig(config: SafeConfig): string {
  return JSON.stringify({ maxBackupBytes: config.maxBackupBytes, retentionDays: config.retentionDays });
}

/**
 * Parses a `GET config` body: a JSON object with two positive safe integers. Unknown keys are
 * ignored; anything else throws `bad_request`.
 */
export function parseSafeConfig(text: string): SafeConfig {
  if (text.length > 4096) throw new SwitchyardError('too_large');
  const { maxBackupBytes, retentionDays } = parseJsonObject(text);
  if (!isPositiveInt(maxBackupBytes) || !isPositiveInt(retentionDays))
    throw new SwitchyardError('bad_request');
  return { maxBackupBytes, retentionDays };
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** Path of the config resource below the Safe base URL. */
export const SAFE_CONFIG_PATH = 'config';
/** Path of one backup below the Safe base URL. */
export function safeBackupPath(id: BackupId): string {
  return `backups/${id}`;
}
