/**
 * Threema Safe rules: what a backup store must offer, when a backup counts as expired, and the
 * optional HTTP Basic auth check. Requests are parsed in protocol/safe.ts. No AWS imports.
 */
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../../protocol/crypto.ts';
import type { BackupId } from '../../protocol/safe.ts';

export interface StoredBackup {
  readonly bytes: Uint8Array;
  /** Milliseconds since the epoch of the last successful PUT. */
  readonly lastModified: number;
}

export interface BackupMeta {
  readonly size: number;
  /** Milliseconds since the epoch of the last successful PUT. */
  readonly lastModified: number;
}

/**
 * Where backups live. A PUT replaces the whole backup atomically or not at all, so a failed or
 * refused upload leaves the previous backup exactly as it was.
 */
export interface BackupStore {
  put(id: BackupId, bytes: Uint8Array): Promise<void>;
  /** The backup, or undefined when there is none. */
  get(id: BackupId): Promise<StoredBackup | undefined>;
  /** Size and age without the bytes, or undefined when there is none. */
  head(id: BackupId): Promise<BackupMeta | undefined>;
  /** Removes the backup; removing an absent backup is not an error. */
  delete(id: BackupId): Promise<void>;
}

export const DAY_MS = 86_400_000;

/**
 * A backup expires `retentionDays` after its last PUT. The bucket's lifecycle rule (or the local
 * sweeper) deletes it on its own schedule, which may be a day or more late, so every read asks this
 * first and treats an expired backup as absent.
 */
export function isExpired(lastModified: number, retentionDays: number, now: number): boolean {
  return lastModified + retentionDays * DAY_MS <= now;
}

/** Username and password for the Safe's optional HTTP Basic auth. */
export interface BasicAuthCredentials {
  readonly username: string;
  readonly password: string;
}

/** SHA-256 digests are what get compared, so every comparison has the same length. */
export const BASIC_AUTH_DIGEST_BYTES = 32;

/** Longest Authorization header value looked at; anything longer is simply not the right one. */
const MAX_AUTHORIZATION_CHARS = 8192;

/**
 * Refuses credentials a Basic auth client cannot send: an empty or colon-containing username
 * (RFC 7617: the first colon separates the two) or an empty password. The message never quotes them.
 */
export function checkBasicAuthCredentials(credentials: BasicAuthCredentials): BasicAuthCredentials {
  const { username, password } = credentials;
  if (typeof username !== 'string' || username.length === 0 || username.includes(':'))
    throw new Error('Basic auth username must be non-empty and contain no colon');
  if (typeof password !== 'string' || password.length === 0)
    throw new Error('Basic auth password must be non-empty');
  return credentials;
}

/** The digest a request's credentials are compared with: SHA-256 of `username:password` in UTF-8. */
export function basicAuthDigest(credentials: BasicAuthCredentials): Uint8Array {
  checkBasicAuthCredentials(credentials);
  return new Uint8Array(
    createHash('sha256').update(`${credentials.username}:${credentials.password}`, 'utf8').digest(),
  );
}

/**
 * Whether an `Authorization` header carries the expected Basic credentials. The decoded
 * `user:password` is hashed and compared in constant time, so neither the length nor the
 * content of the secret leaks through timing.
 */
export function basicAuthMatches(authorization: string | undefined, expected: Uint8Array): boolean {
  if (expected.length !== BASIC_AUTH_DIGEST_BYTES) return false;
  if (typeof authorization !== 'string' || authorization.length > MAX_AUTHORIZATION_CHARS) return false;
  const match = /^\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!match) return false;
  const presented = createHash('sha256').update(Buffer.from(match[1]!, 'base64')).digest();
  return constantTimeEqual(presented, expected);
}

/** The challenge sent with every 401, so that iOS (which never sends credentials first) retries with them. */
export const BASIC_AUTH_CHALLENGE = 'Basic realm="Threema Safe"';
