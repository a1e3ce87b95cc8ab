/**
 * Contact hashes: HMAC-SHA256 over a normalised e-mail address or phone number, with Threema's
 * public HMAC keys, so a client can hash its address book and a server can match it. The hashes are
 * brute-forceable (phone numbers especially): the directory never stores the ones it is sent for
 * matching and rate-limits matching.
 *
 *   e-mail  trim, lowercase                       key 30a5500f…bad7
 *   phone   E.164 digits without "+" (8–15)       key 85adf822…0723
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex } from './bytes.ts';
import { SwitchyardError } from './errors.ts';

export type ContactKind = 'email' | 'phone';
export const CONTACT_KINDS: readonly ContactKind[] = ['email', 'phone'];
export const CONTACT_HASH_BYTES = 32;

declare const contactHashBrand: unique symbol;
/** A contact hash as sent for matching: 32 bytes. Only {@link ensureContactHash} makes one. */
export type ContactHash = Uint8Array & { readonly [contactHashBrand]: true };

/** 64 lowercase hex characters of a contact hash; anything else is `bad_request`. */
export function ensureContactHash(value: unknown): ContactHash {
  const bytes = typeof value === 'string' ? fromHex(value) : undefined;
  if (!bytes || bytes.length !== CONTACT_HASH_BYTES) throw new SwitchyardError('bad_request');
  return bytes as ContactHash;
}

/** `kind` of a request: "email" or "phone"; anything else is `bad_request`. */
export function ensureContactKind(value: unknown): ContactKind {
  if (!isContactKind(value)) throw new SwitchyardError('bad_request');
  return value;
}

const HMAC_KEYS: Record<ContactKind, Uint8Array> = {
  email: fromHex('30a5500fed9701fa6defdb610841900febb8e430881f7ad816826264ec09bad7')!,
  phone: fromHex('85adf8226953f3d96cfd5d09bf29555eb955fcd8aa5ec4f9fcd869e258370723')!,
};

const EMAIL = /^[^@\s]{1,64}@[^@\s]{1,190}$/;

/** Normalises an address of `kind`, or throws bad_request when it isn't one. */
export function normaliseContact(kind: ContactKind, value: string): string {
  if (kind === 'email') {
    const email = value.trim().toLowerCase();
    if (!EMAIL.test(email)) throw new SwitchyardError('bad_request');
    return email;
  }
  const digits = value
    .trim()
    .replace(/^\+|^00/, '')
    .replace(/[\s().-]/g, '');
  if (!/^[1-9][0-9]{7,14}$/.test(digits)) throw new SwitchyardError('bad_request');
  return digits;
}

/** HMAC-SHA256 of an already normalised address. */
export function contactHash(kind: ContactKind, normalised: string): Uint8Array {
  return hmac(sha256, HMAC_KEYS[kind], new TextEncoder().encode(normalised));
}

export function isContactKind(value: unknown): value is ContactKind {
  return value === 'email' || value === 'phone';
}
