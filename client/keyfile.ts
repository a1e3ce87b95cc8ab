/**
 * The identity file: the identity, its public key and its secret key, in a file only its owner can
 * read (mode 0600), optionally encrypted with a passphrase. The secret key never leaves it except
 * into memory.
 *
 *   plain      {"version":1, "identity", "publicKey": hex, "secretKey": hex}
 *   encrypted  {"version":1, "identity", "publicKey": hex,
 *               "encrypted": {"kdf":"scrypt", "N", "r", "p", "salt": hex, "nonce": hex, "box": hex}}
 *              box = secretbox(secretKey, nonce, scrypt(passphrase, salt, N, r, p, 32))
 */
import { scrypt } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { fromHex, toHex } from '../protocol/bytes.ts';
import {
  type KeyPair,
  keyPairFromSecret,
  randomBytes,
  SECRETBOX_NONCE_BYTES,
  secretboxOpen,
  secretboxSeal,
} from '../protocol/crypto.ts';
import { ensureIdentityId, type IdentityId } from '../protocol/identity.ts';

export interface IdentityFile {
  readonly identity: IdentityId;
  readonly keys: KeyPair;
}

/** scrypt parameters for the passphrase: 64 MiB, about a fifth of a second. */
const KDF = { N: 65536, r: 8, p: 1 } as const;

/** Why an identity file could not be used, so callers (the CLI's exit codes) can tell the cases apart. */
export type KeyFileProblem = 'missing' | 'damaged' | 'passphrase_needed' | 'wrong_passphrase';

export class KeyFileError extends Error {
  constructor(
    message: string,
    readonly problem: KeyFileProblem = 'damaged',
  ) {
    super(message);
    this.name = 'KeyFileError';
  }
}

function derive(
  passphrase: string,
  salt: Uint8Array,
  params: { N: number; r: number; p: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFC'),
      salt,
      32,
      { ...params, maxmem: 256 * params.N * params.r },
      (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))),
    ),
  );
}

/** Writes the identity file with mode 0600 (refusing to overwrite unless `overwrite`). */
export async function saveIdentityFile(
  path: string,
  file: IdentityFile,
  options: { passphrase?: string; overwrite?: boolean } = {},
): Promise<void> {
  const base = { version: 1, identity: file.identity, publicKey: toHex(file.keys.publicKey) };
  let body: Record<string, unknown>;
  if (options.passphrase) {
    const salt = randomBytes(16);
    const nonce = randomBytes(SECRETBOX_NONCE_BYTES);
    const key = await derive(options.passphrase, salt, KDF);
    const box = secretboxSeal(file.keys.secretKey, nonce, key);
    body = {
      ...base,
      encrypted: { kdf: 'scrypt', ...KDF, salt: toHex(salt), nonce: toHex(nonce), box: toHex(box) },
    };
  } else {
    body = { ...base, secretKey: toHex(file.keys.secretKey) };
  }
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

function identityOf(body: Record<string, unknown>): IdentityId {
  if (body.version !== 1) throw new KeyFileError('The identity file has an unknown version.');
  try {
    return ensureIdentityId(body.identity);
  } catch {
    throw new KeyFileError('The identity file names no valid identity.');
  }
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
  const body = readBody(path);
  const identity = identityOf(body);
  const publicKey = typeof body.publicKey === 'string' ? fromHex(body.publicKey) : undefined;
  if (publicKey?.length !== 32) throw new KeyFileError('The identity file is damaged.');
  return { identity, publicKey, encrypted: typeof body.encrypted === 'object' && body.encrypted !== null };
}

/** Reads the identity file; throws KeyFileError for a missing or damaged file or a wrong passphrase. */
export async function loadIdentityFile(path: string, passphrase?: string): Promise<IdentityFile> {
  const body = readBody(path);
  const identity = identityOf(body);
  let secretKey: Uint8Array | undefined;
  const encrypted = body.encrypted as Record<string, unknown> | undefined;
  if (encrypted) {
    if (!passphrase)
      throw new KeyFileError('The identity file is encrypted: a passphrase is needed.', 'passphrase_needed');
    const salt = fromHex(String(encrypted.salt));
    const nonce = fromHex(String(encrypted.nonce));
    const box = fromHex(String(encrypted.box));
    const params = { N: Number(encrypted.N), r: Number(encrypted.r), p: Number(encrypted.p) };
    if (
      !salt ||
      !nonce ||
      !box ||
      encrypted.kdf !== 'scrypt' ||
      !(params.N <= 1 << 20 && params.r <= 32 && params.p <= 16)
    ) {
      throw new KeyFileError('The identity file is damaged.');
    }
    try {
      secretKey = secretboxOpen(box, nonce, await derive(passphrase, salt, params));
    } catch {
      throw new KeyFileError('Wrong passphrase for the identity file.', 'wrong_passphrase');
    }
  } else {
    secretKey = fromHex(String(body.secretKey));
  }
  if (secretKey?.length !== 32) throw new KeyFileError('The identity file is damaged.');
  const keys = keyPairFromSecret(secretKey);
  if (toHex(keys.publicKey) !== body.publicKey) throw new KeyFileError('The identity file is damaged.');
  return { identity, keys };
}
