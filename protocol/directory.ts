/**
 * Proof of key possession for the directory, after Threema's directory challenge:
 *
 *   server → client   token (32 random bytes), temporary public key T (32 bytes)
 *   S        = crypto_box_beforenm(T, clientSecret)            (= beforenm(clientPublic, T.secret))
 *   k        = BLAKE2b-256(key = S, salt = "dir", personal = "3ma-csp")       (empty message)
 *   response = BLAKE2b-256(key = k, message = token ‖ SHA-256(request))
 *
 * Deviation from Threema: the response also covers a digest of the request it authorises (the
 * operation and its parameters), so a response can't be moved onto another request. Salt and
 * personal are zero-padded to 16 bytes. Each token is single-use and expires quickly (server side).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, pad16 } from './bytes.ts';
import { sharedKey } from './crypto.ts';
import { SwitchyardError } from './errors.ts';

export const CHALLENGE_TOKEN_BYTES = 32;
export const RESPONSE_BYTES = 32;

declare const challengeTokenBrand: unique symbol;
declare const challengeResponseBrand: unique symbol;
/** A challenge token as a client sends it back: 32 bytes. Only {@link ensureProof} makes one. */
export type ChallengeToken = Uint8Array & { readonly [challengeTokenBrand]: true };
/** A challenge response: 32 bytes. Only {@link ensureProof} makes one. */
export type ChallengeResponse = Uint8Array & { readonly [challengeResponseBrand]: true };

/** The proof fields of a request body: `token` and `response`, lowercase hex of 32 bytes each. */
export interface ProofFields {
  readonly token: ChallengeToken;
  readonly response: ChallengeResponse;
}

/** Reads `token` and `response` from a request body; anything but 64 lowercase hex each is `bad_request`. */
export function ensureProof(body: Readonly<Record<string, unknown>>): ProofFields {
  return {
    token: hexBytes(body.token, CHALLENGE_TOKEN_BYTES) as ChallengeToken,
    response: hexBytes(body.response, RESPONSE_BYTES) as ChallengeResponse,
  };
}

/** Reads a challenge token alone (revocation: proof of work instead of a response). */
export function ensureToken(value: unknown): ChallengeToken {
  return hexBytes(value, CHALLENGE_TOKEN_BYTES) as ChallengeToken;
}

function hexBytes(value: unknown, length: number): Uint8Array {
  const bytes = typeof value === 'string' ? fromHex(value) : undefined;
  if (!bytes || bytes.length !== length) throw new SwitchyardError('bad_request');
  return bytes;
}

const SALT = pad16('dir');
const PERSONAL = pad16('3ma-csp');

/** The digest of a request: SHA-256 over its canonical JSON (keys sorted, no whitespace). */
export function requestDigest(request: Readonly<Record<string, unknown>>): Uint8Array {
  return sha256(new TextEncoder().encode(canonicalJson(request)));
}

/** JSON with object keys sorted at every level, so both sides hash the same bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The response from a shared key S (see the layout above). */
export function responseFromShared(shared: Uint8Array, token: Uint8Array, digest: Uint8Array): Uint8Array {
  const k = blake2b(new Uint8Array(0), { key: shared, salt: SALT, personalization: PERSONAL, dkLen: 32 });
  return blake2b(concatBytes(token, digest), { key: k, dkLen: RESPONSE_BYTES });
}

/** Client side: answer a challenge with the identity's secret key. */
export function answerChallenge(
  clientSecret: Uint8Array,
  temporaryPublic: Uint8Array,
  token: Uint8Array,
  request: Readonly<Record<string, unknown>>,
): Uint8Array {
  return responseFromShared(sharedKey(temporaryPublic, clientSecret), token, requestDigest(request));
}

/** Server side: the expected response, from the temporary secret key and the client's public key. */
export function expectedResponse(
  temporarySecret: Uint8Array,
  clientPublic: Uint8Array,
  token: Uint8Array,
  request: Readonly<Record<string, unknown>>,
): Uint8Array {
  return responseFromShared(sharedKey(clientPublic, temporarySecret), token, requestDigest(request));
}
