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
import { checkBodySize, type RawHttpRequest, rawBodyBytes } from './http.ts';
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

// ─── Request parsing (server side): size, then shape ────────────────────────────────────────────

/** Which resource below the Safe base URL a request names, as the gateway's route resolved it. */
export type SafeTarget = { readonly kind: 'config' } | { readonly kind: 'backup'; readonly id: unknown };

/** The raw parts of a Safe request; `target` is undefined when the path names no Safe resource. */
export interface SafeHttpInput extends RawHttpRequest {
  readonly target: SafeTarget | undefined;
}

/** What a well-formed Safe request asks for. */
export type SafeRequest =
  | { readonly kind: 'config' }
  | { readonly kind: 'put'; readonly id: BackupId; readonly body: Uint8Array }
  | { readonly kind: 'get' | 'head' | 'delete'; readonly id: BackupId }
  | { readonly kind: 'notAllowed'; readonly allow: string };

/** The `Allow` header of a 405 on `config`, and on `backups/<id>`. */
export const CONFIG_METHODS = 'GET, HEAD';
export const BACKUP_METHODS = 'GET, HEAD, PUT, DELETE';

/** Longest path below the base URL that is looked at; anything longer names nothing. */
const SAFE_PATH_MAX_CHARS = 256;

/** The resource a path below the base URL names (`config` or `backups/<id>`); undefined for any other. */
export function safeTargetOfPath(path: unknown): SafeTarget | undefined {
  if (typeof path !== 'string' || path.length > SAFE_PATH_MAX_CHARS) return undefined;
  const parts = path.split('/');
  if (parts.length === 1 && parts[0] === SAFE_CONFIG_PATH) return { kind: 'config' };
  if (parts.length === 2 && parts[0] === 'backups') return { kind: 'backup', id: parts[1] };
  return undefined;
}

/** A backup body must be non-empty and at most `maxBackupBytes`: `bad_request` / `too_large`. */
export function checkBackupSize(size: number, maxBackupBytes: number): void {
  if (size > maxBackupBytes) throw new SwitchyardError('too_large');
  if (size === 0) throw new SwitchyardError('bad_request');
}

/**
 * Steps 1 and 3 of docs/PROTOCOL.md's order of checks (step 2, Basic auth, is the handler's):
 * size (`too_large`), then shape: a known path (`not_found`), a supported method (a `notAllowed`
 * request, answered 405 with `Allow`), a backup id of 64 lowercase hex characters and for PUT a
 * non-empty body (`bad_request`). Never throws anything but a SwitchyardError.
 */
export function parseSafeRequest(input: SafeHttpInput, maxBackupBytes: number): SafeRequest {
  // Step 1, size (`too_large`); the function's middy stack has already done it, the parser stands alone.
  checkBodySize(input, maxBackupBytes);
  const target = input.target;
  if (!target) throw new SwitchyardError('not_found');
  const method = input.method;
  if (target.kind === 'config') {
    return method === 'GET' || method === 'HEAD'
      ? { kind: 'config' }
      : { kind: 'notAllowed', allow: CONFIG_METHODS };
  }
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT' && method !== 'DELETE')
    return { kind: 'notAllowed', allow: BACKUP_METHODS };
  const id = ensureBackupId(target.id);
  if (method !== 'PUT') return { kind: method === 'GET' ? 'get' : method === 'HEAD' ? 'head' : 'delete', id };
  const body = rawBodyBytes(input);
  checkBackupSize(body.length, maxBackupBytes);
  return { kind: 'put', id, body };
}
