/**
 * The Threema Safe backup JSON, schema version 1, as the Threema apps write and read it:
 *
 *   {
 *     "info":     {"version": 1, "device": "…"},               required; version > 1 is refused
 *     "user":     {"privatekey": "<base64, 32 bytes>",           required
 *                  "nickname"?, "profilePic"?, "links"?, …},
 *     "settings": {…},                                           written always; readers tolerate absence
 *     "contacts"?: […], "groups"?: […], "distributionlists"?: […]
 *   }
 *
 * Readers ignore keys they do not know, and so does this module: a parsed backup keeps every key it
 * had, so restore → backup round-trips data written by newer apps within version 1.
 */
import { fromBase64 } from '../../protocol/bytes.ts';
import { SAFE_SCHEMA_VERSION } from '../../protocol/safe.ts';
import { BackupFormatError, UnsupportedVersionError } from './errors.ts';

type Json = Record<string, unknown>;

export interface SafeBackupInfo extends Json {
  readonly version: number;
  readonly device?: string;
}

export interface SafeBackupUser extends Json {
  /** The identity's X25519 secret key, base64 (32 bytes). */
  readonly privatekey: string;
  readonly nickname?: string;
}

/** A Threema Safe backup. Unknown keys are kept as they were. */
export interface SafeBackup extends Json {
  readonly info: SafeBackupInfo;
  readonly user: SafeBackupUser;
  readonly settings?: Json;
  readonly contacts?: readonly unknown[];
  readonly groups?: readonly unknown[];
  readonly distributionlists?: readonly unknown[];
}

/** Largest backup JSON this module parses (characters); far above any real Threema backup. */
export const MAX_BACKUP_JSON_CHARS = 64 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The private key's bytes; padding may be missing, as lenient base64 writers leave it out. */
function privateKeyBytes(key: string): Uint8Array | undefined {
  const unpadded = key.replace(/=+$/, '');
  return fromBase64(unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, '='));
}
const PRIVATE_KEY_BYTES = 32;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks that a value has the shape of a version-1 backup and returns it typed, unknown keys and
 * all. `settings` is required when `forUpload` (every app writes it), optional otherwise (Android
 * restores without it).
 *
 * @throws UnsupportedVersionError for `info.version` > 1; BackupFormatError for any other problem.
 */
export function validateSafeBackup(value: unknown, options: { forUpload?: boolean } = {}): SafeBackup {
  if (!isObject(value)) throw new BackupFormatError('A Threema Safe backup is a JSON object.');
  const { info, user, settings } = value;
  if (!isObject(info)) throw new BackupFormatError('The backup has no "info" object.');
  const version = info.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new BackupFormatError('The backup\'s "info.version" is not a positive whole number.');
  if (version > SAFE_SCHEMA_VERSION) throw new UnsupportedVersionError(version, SAFE_SCHEMA_VERSION);
  if (info.device !== undefined && typeof info.device !== 'string')
    throw new BackupFormatError('The backup\'s "info.device" is not a string.');
  if (!isObject(user)) throw new BackupFormatError('The backup has no "user" object.');
  const key = user.privatekey;
  if (typeof key !== 'string' || !BASE64.test(key) || privateKeyBytes(key)?.length !== PRIVATE_KEY_BYTES)
    throw new BackupFormatError('The backup\'s "user.privatekey" is not a base64-encoded 32-byte key.');
  if (user.nickname !== undefined && typeof user.nickname !== 'string')
    throw new BackupFormatError('The backup\'s "user.nickname" is not a string.');
  if (settings !== undefined && !isObject(settings))
    throw new BackupFormatError('The backup\'s "settings" is not an object.');
  if (options.forUpload && settings === undefined)
    throw new BackupFormatError('The backup has no "settings" object; Threema apps expect one.');
  for (const list of ['contacts', 'groups', 'distributionlists'] as const) {
    if (value[list] !== undefined && !Array.isArray(value[list]))
      throw new BackupFormatError(`The backup's "${list}" is not an array.`);
  }
  return value as SafeBackup;
}

/**
 * Parses backup JSON text (size first, then JSON, then shape).
 *
 * @throws UnsupportedVersionError for a newer schema version; BackupFormatError otherwise.
 */
export function parseSafeBackup(text: string, options: { forUpload?: boolean } = {}): SafeBackup {
  if (text.length > MAX_BACKUP_JSON_CHARS)
    throw new BackupFormatError('The backup JSON is implausibly large.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new BackupFormatError('The backup is not valid JSON.', { cause });
  }
  return validateSafeBackup(value, options);
}

/** The JSON text of a backup, after checking it is fit to upload. */
export function encodeSafeBackup(backup: SafeBackup): string {
  return JSON.stringify(validateSafeBackup(backup, { forUpload: true }));
}
