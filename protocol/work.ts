/**
 * Proof of work for the directory's anonymous requests (registration and revocation), so the work
 * one client can make the server do is paid for first, and costs the same for everyone:
 *
 *   seed  = SHA-256("switchyard-work-v1" ‖ token ‖ canonicalJSON(subject))     (32 bytes)
 *   stamp = SHA-256(seed ‖ nonce)                               (nonce: 8 bytes, any value)
 *   valid iff the first `bits` bits of stamp are zero (bit 0 = the high bit of byte 0)
 *
 * `token` is the 32-byte directory challenge token (fresh, so work can't be done in advance);
 * `subject` names what the work is for (`{"purpose":"create","publicKey":…}` or
 * `{"identity":…,"purpose":"revoke"}`), so it can't be moved to another key or identity. The
 * server tells the required `bits` in the challenge answer and checks a stamp with one SHA-256.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex } from './bytes.ts';
import { canonicalJson } from './directory.ts';
import { SwitchyardError } from './errors.ts';

/** The nonce a client sends as `work`: 8 bytes, lowercase hex on the wire. */
export const WORK_NONCE_BYTES = 8;
/** Hashed before the token: the construction's name and version (ASCII). */
export const WORK_DOMAIN = 'switchyard-work-v1';

/** The 32-byte seed the nonce is searched for (see the layout above). */
export function workSeed(token: Uint8Array, subject: Readonly<Record<string, unknown>>): Uint8Array {
  const encoder = new TextEncoder();
  return sha256(concatBytes(encoder.encode(WORK_DOMAIN), token, encoder.encode(canonicalJson(subject))));
}

/** Leading zero bits of a digest. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** Whether `nonce` is a stamp of at least `bits` leading zero bits for `seed`. */
export function checkWork(seed: Uint8Array, nonce: Uint8Array, bits: number): boolean {
  if (nonce.length !== WORK_NONCE_BYTES) return false;
  return leadingZeroBits(sha256(concatBytes(seed, nonce))) >= bits;
}

/**
 * Client side: searches nonces from a random start (so nobody can predict, and spend first, the
 * stamp a client will send) until one has `bits` leading zero bits. Expected 2^bits hashes. Yields
 * to the event loop now and then so a page stays responsive.
 */
export async function solveWork(seed: Uint8Array, bits: number): Promise<Uint8Array> {
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new RangeError('work bits out of range');
  const nonce = new Uint8Array(WORK_NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  // The seed hashed once; each try copies that state into one reused hasher and adds the nonce,
  // about half the time of hashing seed ‖ nonce afresh (the same digest).
  const seeded = sha256.create().update(seed);
  const digest = new Uint8Array(32);
  let hasher: ReturnType<typeof sha256.create> | undefined;
  for (let tries = 0; ; tries++) {
    // 4 random bytes, then a 32-bit counter; a new random start if the counter ever wraps.
    if (tries % 2 ** 32 === 0)
      view.setUint32(0, (globalThis.crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) >>> 0);
    view.setUint32(4, tries >>> 0);
    hasher = seeded._cloneInto(hasher);
    hasher.update(nonce).digestInto(digest);
    if (leadingZeroBits(digest) >= bits) return nonce.slice();
    if (tries % 65_536 === 65_535) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

declare const workNonceBrand: unique symbol;
/** A work nonce as a client sends it: 8 bytes. Only {@link ensureWorkNonce} makes one. */
export type WorkNonce = Uint8Array & { readonly [workNonceBrand]: true };

/** Reads `work` from a request body: 16 lowercase hex characters, else `bad_request`. */
export function ensureWorkNonce(value: unknown): WorkNonce {
  const bytes = typeof value === 'string' ? fromHex(value) : undefined;
  if (!bytes || bytes.length !== WORK_NONCE_BYTES) throw new SwitchyardError('bad_request');
  return bytes as WorkNonce;
}
