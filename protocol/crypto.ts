/**
 * The one wrapper around tweetnacl. Key sizes come from named constants; failures become typed
 * errors rather than `null`.
 */
import nacl from 'tweetnacl';

/** X25519 public and secret keys are 32 bytes. */
export const KEY_BYTES = nacl.box.publicKeyLength;

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export class CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

/** A fresh X25519 key pair from the platform's CSPRNG. */
export function generateKeyPair(): KeyPair {
  return nacl.box.keyPair();
}

/** The key pair for an X25519 secret key. */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== KEY_BYTES) throw new CryptoError('secret key must be 32 bytes');
  return nacl.box.keyPair.fromSecretKey(secretKey);
}

/** Secret-key authenticated encryption (XSalsa20-Poly1305): key, nonce and tag sizes. */
export const SECRETBOX_KEY_BYTES = nacl.secretbox.keyLength;
export const SECRETBOX_NONCE_BYTES = nacl.secretbox.nonceLength;
export const SECRETBOX_OVERHEAD_BYTES = nacl.secretbox.overheadLength;

/**
 * A secretbox that does not open: wrong key, wrong nonce or altered bytes. Deliberately says
 * nothing more, since the three cannot be told apart.
 */
export class DecryptionError extends CryptoError {
  constructor() {
    super('secretbox could not be opened');
    this.name = 'DecryptionError';
  }
}

function checkSecretboxParams(nonce: Uint8Array, key: Uint8Array): void {
  if (key.length !== SECRETBOX_KEY_BYTES) throw new CryptoError('secretbox key must be 32 bytes');
  if (nonce.length !== SECRETBOX_NONCE_BYTES) throw new CryptoError('secretbox nonce must be 24 bytes');
}

/** `MAC (16) ‖ ciphertext` of `message` under `key` and `nonce`. The nonce must never repeat for a key. */
export function secretboxSeal(message: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  checkSecretboxParams(nonce, key);
  return nacl.secretbox(message, nonce, key);
}

/** Opens a secretbox; throws {@link DecryptionError} instead of returning tweetnacl's `null`. */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
  checkSecretboxParams(nonce, key);
  const message = nacl.secretbox.open(box, nonce, key);
  if (!message) throw new DecryptionError();
  return message;
}

/**
 * Whether two byte strings are equal, in time that depends only on their lengths (tweetnacl's
 * `crypto_verify`), never on where they differ: for proofs, vouches, cookies, code and password
 * digests. Different lengths are simply unequal; two empty strings are equal.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  // nacl.verify answers false for empty input; an empty string does equal an empty string.
  return a.length === 0 || nacl.verify(a, b);
}

/** `length` bytes from the platform's CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return nacl.randomBytes(length);
}

/** NaCl box nonces are 24 bytes. */
export const BOX_NONCE_BYTES = nacl.box.nonceLength;

/**
 * The precomputed shared key of a key pair and a peer's public key (`crypto_box_beforenm`:
 * X25519 + HSalsa20). Compute it once per peer: X25519 in pure JS costs about half a millisecond.
 */
export function sharedKey(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
  if (theirPublic.length !== KEY_BYTES || ourSecret.length !== KEY_BYTES)
    throw new CryptoError('keys must be 32 bytes');
  return nacl.box.before(theirPublic, ourSecret);
}

/** NaCl box (XSalsa20-Poly1305 under an X25519 shared key) with a precomputed shared key. */
export function boxSealShared(message: Uint8Array, nonce: Uint8Array, shared: Uint8Array): Uint8Array {
  return secretboxSeal(message, nonce, shared);
}

/** Opens a NaCl box with a precomputed shared key; throws {@link DecryptionError} on failure. */
export function boxOpenShared(box: Uint8Array, nonce: Uint8Array, shared: Uint8Array): Uint8Array {
  return secretboxOpen(box, nonce, shared);
}
