/**
 * Identities and their keys, as they cross the wire. Branded types: only the `ensure*` functions
 * make them, so code holding an IdentityId or a PublicKey never checks again.
 *
 *   identity    8 characters [0-9A-Z], assigned at random by the server
 *   public key  32-byte X25519 key, written as 64 lowercase hex characters
 */
import { fromHex } from './bytes.ts';
import { isSmallOrderKey, KEY_BYTES } from './crypto.ts';
import { SwitchyardError } from './errors.ts';

export type IdentityId = string & { readonly __brand: 'IdentityId' };
export type PublicKey = Uint8Array & { readonly __brand: 'PublicKey' };

export const IDENTITY_LENGTH = 8;
export const IDENTITY_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const IDENTITY_PATTERN = /^[0-9A-Z]{8}$/;

/** Identity states on the wire, as in Threema: 0 active, 2 invalid (revoked, deleted or never issued). */
export const IDENTITY_STATE = { active: 0, invalid: 2 } as const;
export type IdentityState = (typeof IDENTITY_STATE)[keyof typeof IDENTITY_STATE];

/** Feature mask bits, as in Threema; the directory stores the mask but does not interpret it. */
export const FEATURE_MASK_MAX = 0xffff;

export function isIdentityId(value: unknown): value is IdentityId {
  return typeof value === 'string' && IDENTITY_PATTERN.test(value);
}

export function ensureIdentityId(value: unknown): IdentityId {
  if (!isIdentityId(value)) throw new SwitchyardError('bad_request');
  return value;
}

/**
 * A public key from 64 lowercase hex characters; `bad_request` for anything else, and for the
 * small-order X25519 points (e.g. all zeros), whose shared secret with any key is all zero.
 */
export function ensurePublicKey(value: unknown): PublicKey {
  const bytes = typeof value === 'string' ? fromHex(value) : undefined;
  if (!bytes || bytes.length !== KEY_BYTES || isSmallOrderKey(bytes))
    throw new SwitchyardError('bad_request');
  return bytes as PublicKey;
}

export function ensureFeatureMask(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > FEATURE_MASK_MAX) {
    throw new SwitchyardError('bad_request');
  }
  return value;
}

/** A uniformly random identity from `random` bytes (rejection sampling: no modulo bias). */
export function randomIdentityId(randomBytes: (length: number) => Uint8Array): IdentityId {
  let id = '';
  while (id.length < IDENTITY_LENGTH) {
    for (const byte of randomBytes(IDENTITY_LENGTH * 2)) {
      // 252 = 7 × 36: bytes at or above it would favour the first characters.
      if (byte < 252 && id.length < IDENTITY_LENGTH) id += IDENTITY_ALPHABET[byte % 36];
    }
  }
  return id as IdentityId;
}
