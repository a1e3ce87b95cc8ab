/**
 * The backup key vault's HTTP requests (docs/PROTOCOL.md, "Vault"), parsed at the edge into typed
 * values, and the client-side wrapping of the vaulted key. All routes are `POST` below `/vault/`;
 * `proxy` is the path after it. Byte fields are lowercase hex.
 *
 *   POST /vault/challenge                    {identity}
 *   POST /vault/identities/{id}/register     {request, token, response}          (owner) → {response, credential}
 *   POST /vault/identities/{id}/store        {record, credential, wrapped, tries, token, response}  (owner)
 *   POST /vault/identities/{id}/delete       {token, response}                   (owner)
 *   POST /vault/identities/{id}/code         {kind, address, token, work}        (anyone, proof of work)
 *   POST /vault/identities/{id}/start        {ke1, request, code} | {ke1, token, response}
 *   POST /vault/identities/{id}/finish       {login, ke3}
 *
 * OPAQUE messages (RFC 9807, ristretto255, 3DH, SHA-512) have fixed sizes:
 *
 *   registration request 32 · registration response 64 · registration record 192
 *   KE1 96 · KE2 320 · KE3 64 · export key 64
 *
 * The wrapped key: nonce (24) ‖ XSalsa20-Poly1305 secretbox of the key under
 *
 *   wrapKey = HKDF-SHA-256(ikm = exportKey, salt = empty, info = "switchyard-vault-wrap-v1:" ‖ identity, 32)
 *
 * Checks, in order: the path (404 `not_found`, 405 `method_not_allowed`, 400 for a malformed id in
 * it), the body's size (413 `too_large`), its JSON shape and field formats (400 `bad_request`).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex } from './bytes.ts';
import { type ContactKind, ensureContactKind } from './contacts.ts';
import { BOX_NONCE_BYTES, randomBytes, secretboxOpen, secretboxSeal } from './crypto.ts';
import { type ChallengeToken, ensureProof, ensureToken, type ProofFields } from './directory.ts';
import { ADDRESS_MAX_CHARS, VERIFICATION_CODE_CHARS } from './directory-requests.ts';
import { SwitchyardError } from './errors.ts';
import { checkBodySize, type RawHttpRequest, rawBodyBytes } from './http.ts';
import { ensureIdentityId, type IdentityId } from './identity.ts';
import { parseJsonObject } from './json.ts';
import { LIMITS } from './limits.ts';
import { ensureWorkNonce, type WorkNonce } from './work.ts';

/** Sizes of the OPAQUE messages (ristretto255 suite), in bytes. */
export const OPAQUE_BYTES = {
  registrationRequest: 32,
  registrationResponse: 64,
  registrationRecord: 192,
  ke1: 96,
  ke2: 320,
  ke3: 64,
  exportKey: 64,
} as const;

/** A login in progress is named by 16 random bytes; so is a code request. */
export const VAULT_HANDLE_BYTES = 16;
/**
 * A vault's OPAQUE credential identifier: 16 random bytes the server picks at `register`, new for
 * every registration. The OPRF key is derived from it, so evaluations collected under one
 * registration (or a decoy) never help against another.
 */
export const VAULT_CREDENTIAL_BYTES = 16;

/**
 * The credential identifier the OPAQUE library is given (it takes a string and uses its UTF-8
 * bytes): a stored vault's is `"v:"` and the 32 lowercase hex characters of its credential; a decoy
 * (no vault) uses `"decoy:"` and the identity, fixed per identity and never a vault's.
 */
export const vaultCredentialIdentifier = {
  record: (credential: Uint8Array) => `v:${toHex(credential)}`,
  decoy: (identity: string) => `decoy:${identity}`,
};
/** Bytes of the key the vault keeps for a client (the combined Safe flow vaults 32). */
export const VAULT_KEY_BYTES = 32;
/** The wrapped key: a secretbox nonce, the key, the Poly1305 tag. */
export const WRAPPED_BYTES = BOX_NONCE_BYTES + VAULT_KEY_BYTES + 16;

declare const vaultBytesBrand: unique symbol;
/** Bytes of a vault field whose length was checked at the edge. Only the parsers make them. */
export type VaultBytes = Uint8Array & { readonly [vaultBytesBrand]: true };

/** What the proof of work of a code request is bound to (protocol/work.ts). */
export function vaultCodeWorkSubject(identity: IdentityId) {
  return { purpose: 'vaultCode', identity } as const;
}

/** A well-formed vault request. */
export type VaultRequest =
  | { readonly kind: 'challenge'; readonly identity: IdentityId }
  | {
      readonly kind: 'register';
      readonly identity: IdentityId;
      readonly request: VaultBytes;
      readonly proof: ProofFields;
    }
  | {
      readonly kind: 'store';
      readonly identity: IdentityId;
      readonly record: VaultBytes;
      readonly credential: VaultBytes;
      readonly wrapped: VaultBytes;
      readonly tries: number;
      readonly proof: ProofFields;
    }
  | { readonly kind: 'delete'; readonly identity: IdentityId; readonly proof: ProofFields }
  | {
      readonly kind: 'code';
      readonly identity: IdentityId;
      readonly contact: ContactKind;
      readonly address: string;
      readonly token: ChallengeToken;
      readonly work: WorkNonce;
    }
  | {
      readonly kind: 'start';
      readonly identity: IdentityId;
      readonly ke1: VaultBytes;
      readonly gate:
        | { readonly kind: 'code'; readonly request: VaultBytes; readonly code: string }
        | { readonly kind: 'proof'; readonly proof: ProofFields };
    }
  | {
      readonly kind: 'finish';
      readonly identity: IdentityId;
      readonly login: VaultBytes;
      readonly ke3: VaultBytes;
    };

/** The raw parts of a vault request: method, headers, body and the path below `/vault/`. */
export interface VaultHttpInput extends RawHttpRequest {
  readonly proxy: string | undefined;
}

type Body = Readonly<Record<string, unknown>>;

function bytes(body: Body, name: string, length: number): VaultBytes {
  const value = body[name];
  const decoded = typeof value === 'string' ? fromHex(value) : undefined;
  if (!decoded || decoded.length !== length) throw new SwitchyardError('bad_request');
  return decoded as VaultBytes;
}

function tries(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > LIMITS.vaultMaxTries)
    throw new SwitchyardError('bad_request');
  return value;
}

function code(value: unknown): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9]{${VERIFICATION_CODE_CHARS}}$`).test(value))
    throw new SwitchyardError('bad_request');
  return value;
}

function address(value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > ADDRESS_MAX_CHARS)
    throw new SwitchyardError('bad_request');
  return value;
}

function parseBody(input: RawHttpRequest): Body {
  checkBodySize(input, LIMITS.vaultBodyBytes);
  return parseJsonObject(new TextDecoder('utf-8', { ignoreBOM: true }).decode(rawBodyBytes(input)));
}

function identityRequest(identity: IdentityId, op: string, body: Body): VaultRequest {
  switch (op) {
    case 'register':
      return {
        kind: op,
        identity,
        request: bytes(body, 'request', OPAQUE_BYTES.registrationRequest),
        proof: ensureProof(body),
      };
    case 'store':
      return {
        kind: op,
        identity,
        record: bytes(body, 'record', OPAQUE_BYTES.registrationRecord),
        credential: bytes(body, 'credential', VAULT_CREDENTIAL_BYTES),
        wrapped: bytes(body, 'wrapped', WRAPPED_BYTES),
        tries: tries(body.tries),
        proof: ensureProof(body),
      };
    case 'delete':
      return { kind: op, identity, proof: ensureProof(body) };
    case 'code':
      return {
        kind: op,
        identity,
        contact: ensureContactKind(body.kind),
        address: address(body.address),
        token: ensureToken(body.token),
        work: ensureWorkNonce(body.work),
      };
    case 'start': {
      const ke1 = bytes(body, 'ke1', OPAQUE_BYTES.ke1);
      // Exactly one gate: a verification code, or the owner's proof of key possession.
      if (body.request !== undefined && body.token === undefined) {
        return {
          kind: op,
          identity,
          ke1,
          gate: { kind: 'code', request: bytes(body, 'request', VAULT_HANDLE_BYTES), code: code(body.code) },
        };
      }
      if (body.request === undefined && body.code === undefined)
        return { kind: op, identity, ke1, gate: { kind: 'proof', proof: ensureProof(body) } };
      throw new SwitchyardError('bad_request');
    }
    case 'finish':
      return {
        kind: op,
        identity,
        login: bytes(body, 'login', VAULT_HANDLE_BYTES),
        ke3: bytes(body, 'ke3', OPAQUE_BYTES.ke3),
      };
    default:
      throw new SwitchyardError('not_found');
  }
}

/**
 * Parses a vault request into a {@link VaultRequest}, or throws a SwitchyardError (`not_found`,
 * `method_not_allowed`, `too_large`, `bad_request`). The body is read only after the path was checked.
 */
export function parseVaultRequest(input: VaultHttpInput): VaultRequest {
  const parts = (input.proxy ?? '').split('/').filter((part) => part !== '');
  const [resource, id, op, ...rest] = parts;
  const known =
    rest.length === 0 &&
    ((resource === 'challenge' && id === undefined) ||
      (resource === 'identities' && id !== undefined && op !== undefined));
  if (!known) throw new SwitchyardError('not_found');
  if (input.method !== 'POST') throw new SwitchyardError('method_not_allowed');
  if (resource === 'challenge')
    return { kind: 'challenge', identity: ensureIdentityId(parseBody(input).identity) };
  // The id in the path is checked before the body is read (400 before 413).
  const identity = ensureIdentityId(id);
  return identityRequest(identity, op as string, parseBody(input));
}

/** The request a vault proof of possession signs (protocol/directory.ts `requestDigest`). */
export const vaultSigned = {
  register: (identity: string, request: string) => ({ purpose: 'vaultRegister', identity, request }) as const,
  store: (identity: string, record: string, credential: string, wrapped: string, tries: number) =>
    ({ purpose: 'vaultStore', identity, record, credential, wrapped, tries }) as const,
  delete: (identity: string) => ({ purpose: 'vaultDelete', identity }) as const,
  open: (identity: string, ke1: string) => ({ purpose: 'vaultOpen', identity, ke1 }) as const,
};

const WRAP_INFO = 'switchyard-vault-wrap-v1:';

function wrapKey(exportKey: Uint8Array, identity: string): Uint8Array {
  if (exportKey.length !== OPAQUE_BYTES.exportKey) throw new RangeError('export key must be 64 bytes');
  const info = new TextEncoder().encode(WRAP_INFO + identity);
  return hkdf(sha256, exportKey, new Uint8Array(0), info, 32);
}

/** Client side: wraps the 32-byte key under the OPAQUE export key (see the layout above). */
export function wrapVaultKey(exportKey: Uint8Array, identity: string, key: Uint8Array): Uint8Array {
  if (key.length !== VAULT_KEY_BYTES) throw new RangeError('the vaulted key must be 32 bytes');
  const nonce = randomBytes(BOX_NONCE_BYTES);
  return concatBytes(nonce, secretboxSeal(key, nonce, wrapKey(exportKey, identity)));
}

/** Client side: the key back from the vault's answer; throws DecryptionError if it does not open. */
export function unwrapVaultKey(exportKey: Uint8Array, identity: string, wrapped: Uint8Array): Uint8Array {
  if (wrapped.length !== WRAPPED_BYTES) throw new SwitchyardError('bad_request');
  return secretboxOpen(
    wrapped.subarray(BOX_NONCE_BYTES),
    wrapped.subarray(0, BOX_NONCE_BYTES),
    wrapKey(exportKey, identity),
  );
}

const SAFE_INFO = 'switchyard-vault-safe-v1:';

/**
 * A Safe backup protected by a vaulted key (docs/SAFE.md, "Protected by the vault"): the 64-byte
 * master key that Threema Safe would derive from ID and password with scrypt, derived instead from
 * the vaulted random key:
 *
 *   masterKey = HKDF-SHA-256(ikm = key (32 bytes), salt = empty,
 *                            info = "switchyard-vault-safe-v1:" ‖ identity (ASCII), length 64)
 *   backupId  = masterKey[0..32)   encryptionKey = masterKey[32..64)
 *
 * The backup is then named, encrypted and laid out exactly as a Threema Safe backup. Its name depends
 * on a random key, not on a password, so it is no guessing oracle.
 */
export function vaultSafeMasterKey(identity: string, key: Uint8Array): Uint8Array {
  if (key.length !== VAULT_KEY_BYTES) throw new RangeError('the vaulted key must be 32 bytes');
  return hkdf(sha256, key, new Uint8Array(0), new TextEncoder().encode(SAFE_INFO + identity), 64);
}
