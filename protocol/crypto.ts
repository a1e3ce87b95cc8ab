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
 * X25519 public keys of small order, as 32-byte little-endian u-coordinates (libsodium's
 * `has_small_order` list): 0 (order 4), 1 (order 1), the two points of order 8, p − 1 (order 2),
 * and the non-canonical encodings p (= 0) and p + 1 (= 1), with p = 2^255 − 19. X25519 ignores bit
 * 255, so each one with that bit set is the same point: 14 encodings in all. Any secret key times
 * such a point gives the all-zero shared secret, which everyone knows: a key among them proves no
 * possession and protects no message. No honestly generated key pair has one.
 */
const SMALL_ORDER_POINTS: readonly Uint8Array[] = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Uint8Array.from(hex.match(/../g)!, (byte) => Number.parseInt(byte, 16)));

/**
 * Whether `publicKey` is one of the 14 encodings of a small-order X25519 point (see above). Such
 * keys are refused wherever a public key enters: the directory, the chat handshake, the SDK.
 */
export function isSmallOrderKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== KEY_BYTES) return false;
  const masked = publicKey.slice();
  masked[KEY_BYTES - 1]! &= 0x7f;
  let found = false;
  for (const point of SMALL_ORDER_POINTS) found = nacl.verify(masked, point) || found;
  return found;
}

/** An X25519 result of all zeros: the peer's key is of small order (anyone can compute it). */
export class LowOrderKeyError extends CryptoError {
  constructor() {
    super('the public key is of small order');
    this.name = 'LowOrderKeyError';
  }
}

const ZERO_SECRET = new Uint8Array(KEY_BYTES);
/** HSalsa20's constant "expand 32-byte k" and the zero input NaCl's `crypto_box_beforenm` uses. */
const SIGMA = new TextEncoder().encode('expand 32-byte k');
const HSALSA_ZERO_INPUT = new Uint8Array(16);
// tweetnacl's typings leave out `lowlevel`; these are the two functions box.before is made of.
const lowlevel = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20(out: Uint8Array, input: Uint8Array, key: Uint8Array, c: Uint8Array): number;
    };
  }
).lowlevel;

/**
 * The precomputed shared key of a key pair and a peer's public key (`crypto_box_beforenm`:
 * X25519 + HSalsa20). Compute it once per peer: X25519 in pure JS costs about half a millisecond.
 * Throws {@link LowOrderKeyError} when the X25519 result is all zero (a small-order peer key), as
 * libsodium's `crypto_scalarmult` does: that "secret" would be known to everyone.
 */
export function sharedKey(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
  if (theirPublic.length !== KEY_BYTES || ourSecret.length !== KEY_BYTES)
    throw new CryptoError('keys must be 32 bytes');
  const secret = nacl.scalarMult(ourSecret, theirPublic);
  if (nacl.verify(secret, ZERO_SECRET)) throw new LowOrderKeyError();
  const key = new Uint8Array(KEY_BYTES);
  lowlevel.crypto_core_hsalsa20(key, HSALSA_ZERO_INPUT, secret, SIGMA);
  return key;
}

/** NaCl box (XSalsa20-Poly1305 under an X25519 shared key) with a precomputed shared key. */
export function boxSealShared(message: Uint8Array, nonce: Uint8Array, shared: Uint8Array): Uint8Array {
  return secretboxSeal(message, nonce, shared);
}

/** Opens a NaCl box with a precomputed shared key; throws {@link DecryptionError} on failure. */
export function boxOpenShared(box: Uint8Array, nonce: Uint8Array, shared: Uint8Array): Uint8Array {
  return secretboxOpen(box, nonce, shared);
}
