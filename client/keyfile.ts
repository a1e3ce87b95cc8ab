/**
 * The identity file: the identity, its public key and its secret key, in a file only its owner can
 * read (mode 0600), optionally encrypted with a passphrase. The secret key never leaves it except
 * into memory. The record's format is client/identity-record.ts's (shared with the browser's
 * IndexedDB key store).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { IdentityId } from '../protocol/identity.ts';
import {
  encodeIdentityRecord,
  type IdentityKeys,
  identityRecordPublic,
  KeyFileError,
  openIdentityRecord,
} from './identity-record.ts';

export { KeyFileError, type KeyFileProblem } from './identity-record.ts';
export type IdentityFile = IdentityKeys;

const LABEL = 'identity file';

/** Writes the identity file with mode 0600 (refusing to overwrite unless `overwrite`). */
export async function saveIdentityFile(
  path: string,
  file: IdentityFile,
  options: { passphrase?: string; overwrite?: boolean } = {},
): Promise<void> {
  const body = await encodeIdentityRecord(file, options.passphrase);
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`, {
    mode: 0o600,
    flag: options.overwrite ? 'w' : 'wx',
  });
  chmodSync(path, 0o600);
}

/** Whether the file at `path` needs a passphrase. */
export function isEncrypted(path: string): boolean {
  return typeof (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>).encrypted === 'object';
}

function readBody(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new KeyFileError('There is no identity file at this path.', 'missing');
    throw new KeyFileError('The identity file is not readable.');
  }
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && !Array.isArray(body))
      return body as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new KeyFileError('The identity file is not readable JSON.');
}

/**
 * The public part of the identity file (identity, public key, whether the secret key is encrypted),
 * read without a passphrase. Throws KeyFileError like loadIdentityFile.
 */
export function readIdentityFilePublic(path: string): {
  identity: IdentityId;
  publicKey: Uint8Array;
  encrypted: boolean;
} {
  return identityRecordPublic(readBody(path), LABEL);
}

/** Reads the identity file; throws KeyFileError for a missing or damaged file or a wrong passphrase. */
export async function loadIdentityFile(path: string, passphrase?: string): Promise<IdentityFile> {
  return openIdentityRecord(readBody(path), LABEL, passphrase);
}
