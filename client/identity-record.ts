/**
 * The stored form of an identity, the same wherever it is kept (the CLI's identity file, a
 * browser's IndexedDB key store: client/keystore.ts), optionally sealed with a passphrase:
 *
 *   plain      {"version":1, "identity", "publicKey": hex, "secretKey": hex}
 *   encrypted  {"version":1, "identity", "publicKey": hex,
 *               "encrypted": {"kdf":"scrypt", "N", "r", "p", "salt": hex, "nonce": hex, "box": hex}}
 *              box = secretbox(secretKey, nonce, scrypt(passphrase NFC, salt, N, r, p, 32))
 */
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
import { scrypt } from './platform/node.ts';

export interface IdentityKeys {
  readonly identity: IdentityId;
  readonly keys: KeyPair;
}

/** Why a stored identity could not be used, so callers (the CLI's exit codes, a page) can tell the cases apart. */
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

export interface SealedSecretKey {
  readonly kdf: 'scrypt';
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
  readonly nonce: string;
  readonly box: string;
}

/** scrypt parameters for passphrases: 64 MiB, about a fifth of a second in Node. */
const KDF = { N: 65536, r: 8, p: 1 } as const;

/** Why a sealed key did not open: its record is damaged, or the passphrase is wrong. */
class SealedKeyError extends Error {
  constructor(readonly problem: 'damaged' | 'wrong_passphrase') {
    super(problem === 'damaged' ? 'The sealed key is damaged.' : 'Wrong passphrase.');
    this.name = 'SealedKeyError';
  }
}

function derive(passphrase: string, salt: Uint8Array, params: { N: number; r: number; p: number }) {
  return scrypt(new TextEncoder().encode(passphrase.normalize('NFC')), salt, params, 32);
}

/** Seals `secretKey` under `passphrase` (fresh salt and nonce). */
async function sealSecretKey(secretKey: Uint8Array, passphrase: string): Promise<SealedSecretKey> {
  const salt = randomBytes(16);
  const nonce = randomBytes(SECRETBOX_NONCE_BYTES);
  const box = secretboxSeal(secretKey, nonce, await derive(passphrase, salt, KDF));
  return { kdf: 'scrypt', ...KDF, salt: toHex(salt), nonce: toHex(nonce), box: toHex(box) };
}

/**
 * Opens a sealed key (a value read from storage, checked here).
 *
 * @throws SealedKeyError 'damaged' for a malformed record (or scrypt parameters beyond 1 GiB),
 *   'wrong_passphrase' when the box does not open.
 */
async function openSecretKey(sealed: unknown, passphrase: string): Promise<Uint8Array> {
  const record = (typeof sealed === 'object' && sealed !== null ? sealed : {}) as Record<string, unknown>;
  const salt = fromHex(String(record.salt));
  const nonce = fromHex(String(record.nonce));
  const box = fromHex(String(record.box));
  const params = { N: Number(record.N), r: Number(record.r), p: Number(record.p) };
  if (
    !salt ||
    !nonce ||
    !box ||
    record.kdf !== 'scrypt' ||
    !(params.N <= 1 << 20 && params.r <= 32 && params.p <= 16)
  ) {
    throw new SealedKeyError('damaged');
  }
  try {
    return secretboxOpen(box, nonce, await derive(passphrase, salt, params));
  } catch {
    throw new SealedKeyError('wrong_passphrase');
  }
}

/** The record to store for an identity; the secret key is sealed when a passphrase is given. */
export async function encodeIdentityRecord(
  file: IdentityKeys,
  passphrase?: string,
): Promise<Record<string, unknown>> {
  const base = { version: 1, identity: file.identity, publicKey: toHex(file.keys.publicKey) };
  return passphrase
    ? { ...base, encrypted: await sealSecretKey(file.keys.secretKey, passphrase) }
    : { ...base, secretKey: toHex(file.keys.secretKey) };
}

/**
 * The public part of a stored record (identity, public key, whether the secret key is sealed),
 * read without a passphrase. `label` names the store in error messages ("identity file").
 */
export function identityRecordPublic(
  body: Record<string, unknown>,
  label: string,
): { identity: IdentityId; publicKey: Uint8Array; encrypted: boolean } {
  if (body.version !== 1) throw new KeyFileError(`The ${label} has an unknown version.`);
  let identity: IdentityId;
  try {
    identity = ensureIdentityId(body.identity);
  } catch {
    throw new KeyFileError(`The ${label} names no valid identity.`);
  }
  const publicKey = typeof body.publicKey === 'string' ? fromHex(body.publicKey) : undefined;
  if (publicKey?.length !== 32) throw new KeyFileError(`The ${label} is damaged.`);
  return { identity, publicKey, encrypted: typeof body.encrypted === 'object' && body.encrypted !== null };
}

/** The identity and key pair of a stored record; throws KeyFileError (damaged, passphrase needed or wrong). */
export async function openIdentityRecord(
  body: Record<string, unknown>,
  label: string,
  passphrase?: string,
): Promise<IdentityKeys> {
  const { identity, encrypted } = identityRecordPublic(body, label);
  let secretKey: Uint8Array | undefined;
  if (encrypted) {
    if (!passphrase)
      throw new KeyFileError(`The ${label} is encrypted: a passphrase is needed.`, 'passphrase_needed');
    try {
      secretKey = await openSecretKey(body.encrypted, passphrase);
    } catch (error) {
      if (error instanceof SealedKeyError && error.problem === 'wrong_passphrase')
        throw new KeyFileError(`Wrong passphrase for the ${label}.`, 'wrong_passphrase');
      throw new KeyFileError(`The ${label} is damaged.`);
    }
  } else {
    secretKey = fromHex(String(body.secretKey));
  }
  if (secretKey?.length !== 32) throw new KeyFileError(`The ${label} is damaged.`);
  const keys = keyPairFromSecret(secretKey);
  if (toHex(keys.publicKey) !== body.publicKey) throw new KeyFileError(`The ${label} is damaged.`);
  return { identity, keys };
}
