/**
 * The directory's HTTP requests (docs/PROTOCOL.md, "Directory"), parsed at the edge into typed
 * values. All routes are below `/directory/`; `proxy` is the path after it.
 *
 *   POST /directory/challenge                {purpose, publicKey | identity}
 *   POST /directory/identities               {publicKey, featureMask?, invite?, token, response, work}
 *   GET  /directory/identities/{id}
 *   POST /directory/lookup                   {identities: [id…]}
 *   POST /directory/identities/{id}/{op}     {token, response, …}   op ∈ featureMask link confirm
 *                                                                    unlink revocationPassword export
 *                                                                    delete match
 *   POST /directory/revoke                   {identity, password, token, work}
 *
 * Checks, in the documented order: the path (404 `not_found`, 405 `method_not_allowed`, 400 for a
 * malformed id in it), the body's size (413 `too_large`: declared, then actual), its JSON shape and
 * field formats (400 `bad_request`). Keys, tokens, responses and hashes are lowercase hex.
 */
import { type ContactHash, type ContactKind, ensureContactHash, ensureContactKind } from './contacts.ts';
import { type ChallengeToken, ensureProof, ensureToken, type ProofFields } from './directory.ts';
import { SwitchyardError } from './errors.ts';
import { checkBodySize, type RawHttpRequest, rawBodyBytes } from './http.ts';
import {
  ensureFeatureMask,
  ensureIdentityId,
  ensurePublicKey,
  type IdentityId,
  type PublicKey,
} from './identity.ts';
import { parseJsonObject } from './json.ts';
import { LIMITS } from './limits.ts';
import { ensureWorkNonce, type WorkNonce } from './work.ts';

/** What a challenge is for: registering a key, or one of the owner operations. */
export type Purpose =
  | 'create'
  | 'featureMask'
  | 'link'
  | 'confirm'
  | 'unlink'
  | 'revocationPassword'
  | 'export'
  | 'delete'
  | 'match'
  | 'revoke'
  // The backup key vault's (protocol/vault.ts): same challenges, its own routes.
  | 'vaultRegister'
  | 'vaultStore'
  | 'vaultDelete'
  | 'vaultOpen'
  | 'vaultCode';

/** The operations an identity's owner proves possession for, each `POST identities/{id}/{op}`. */
export const OWNER_PURPOSES: readonly Purpose[] = [
  'featureMask',
  'link',
  'confirm',
  'unlink',
  'revocationPassword',
  'export',
  'delete',
  'match',
];

/** A revocation's challenge names the identity but needs no key: it carries proof of work instead. */
const PURPOSES: readonly Purpose[] = ['create', ...OWNER_PURPOSES, 'revoke'];

/** Longest address `link` takes (characters). */
export const ADDRESS_MAX_CHARS = 254;
/** Verification codes are exactly this many characters. */
export const VERIFICATION_CODE_CHARS = 6;
/** Longest invite token `create` takes (characters). */
export const INVITE_MAX_CHARS = 64;

/** An owner operation: the identity in the path and the proof in the body, plus its own fields. */
type Owned<T> = T & { readonly identity: IdentityId; readonly proof: ProofFields };

/** A well-formed directory request. */
export type DirectoryRequest =
  | { readonly kind: 'lookup'; readonly identity: IdentityId }
  | {
      readonly kind: 'challenge';
      readonly purpose: Purpose;
      readonly subject: { readonly publicKey: PublicKey } | { readonly identity: IdentityId };
    }
  | {
      readonly kind: 'create';
      readonly publicKey: PublicKey;
      readonly featureMask: number;
      readonly invite?: string;
      readonly proof: ProofFields;
      readonly work: WorkNonce;
    }
  | { readonly kind: 'lookupMany'; readonly identities: readonly IdentityId[] }
  | Owned<{ readonly kind: 'featureMask'; readonly featureMask: number }>
  | Owned<{ readonly kind: 'link'; readonly contact: ContactKind; readonly address: string }>
  | Owned<{ readonly kind: 'confirm'; readonly contact: ContactKind; readonly code: string }>
  | Owned<{ readonly kind: 'unlink'; readonly contact: ContactKind }>
  | Owned<{ readonly kind: 'revocationPassword'; readonly password: string }>
  | Owned<{ readonly kind: 'export' | 'delete' }>
  | Owned<{
      readonly kind: 'match';
      readonly hashes: { readonly email: ContactHash[]; readonly phone: ContactHash[] };
    }>
  | {
      readonly kind: 'revoke';
      readonly identity: IdentityId;
      readonly password: string;
      readonly token: ChallengeToken;
      readonly work: WorkNonce;
    };

/** The raw parts of a directory request: method, headers, body and the path below `/directory/`. */
export interface DirectoryHttpInput extends RawHttpRequest {
  readonly proxy: string | undefined;
}

type Body = Readonly<Record<string, unknown>>;

/** Size first (declared, then actual), then a JSON object. */
export function parseDirectoryBody(input: RawHttpRequest): Body {
  checkBodySize(input, LIMITS.directoryBodyBytes);
  const bytes = rawBodyBytes(input);
  // ignoreBOM keeps a leading byte-order mark in the text, so JSON.parse refuses it as it always has.
  return parseJsonObject(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes));
}

function text(body: Body, name: string, maxChars: number, minChars = 1): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length < minChars || value.length > maxChars)
    throw new SwitchyardError('bad_request');
  return value;
}

function hashList(body: Body, name: string): ContactHash[] {
  const value = body[name] ?? [];
  if (!Array.isArray(value) || value.length > LIMITS.matchMaxHashes) throw new SwitchyardError('bad_request');
  return value.map(ensureContactHash);
}

/**
 * `POST identities/{id}/{op}`. The proof is read before the operation is looked at, so an unknown
 * operation with a malformed proof is `bad_request`, with a well-formed one `not_found`.
 */
function ownerRequest(identity: IdentityId, op: string, body: Body): DirectoryRequest {
  const proof = ensureProof(body);
  switch (op) {
    case 'featureMask':
      return { kind: op, identity, proof, featureMask: ensureFeatureMask(body.featureMask) };
    case 'link':
      return {
        kind: op,
        identity,
        proof,
        contact: ensureContactKind(body.kind),
        address: text(body, 'address', ADDRESS_MAX_CHARS),
      };
    case 'confirm':
      return {
        kind: op,
        identity,
        proof,
        contact: ensureContactKind(body.kind),
        code: text(body, 'code', VERIFICATION_CODE_CHARS, VERIFICATION_CODE_CHARS),
      };
    case 'unlink':
      return { kind: op, identity, proof, contact: ensureContactKind(body.kind) };
    case 'revocationPassword':
      return {
        kind: op,
        identity,
        proof,
        password: text(
          body,
          'password',
          LIMITS.revocationPasswordMaxChars,
          LIMITS.revocationPasswordMinChars,
        ),
      };
    case 'export':
    case 'delete':
      return { kind: op, identity, proof };
    case 'match': {
      const email = hashList(body, 'emailHashes');
      const phone = hashList(body, 'phoneHashes');
      if (email.length + phone.length > LIMITS.matchMaxHashes) throw new SwitchyardError('bad_request');
      return { kind: op, identity, proof, hashes: { email, phone } };
    }
    default:
      throw new SwitchyardError('not_found');
  }
}

/**
 * Parses a directory request into a {@link DirectoryRequest}, or throws a SwitchyardError
 * (`not_found`, `method_not_allowed`, `too_large`, `bad_request`). The body is read only for
 * routes that have one, and only after the path has been checked.
 */
export function parseDirectoryRequest(input: DirectoryHttpInput): DirectoryRequest {
  const method = input.method;
  const parts = (input.proxy ?? '').split('/').filter((part) => part !== '');
  const [resource, id, op, ...rest] = parts;
  if (rest.length > 0) throw new SwitchyardError('not_found');

  if (resource === 'identities' && id !== undefined && op === undefined && method === 'GET')
    return { kind: 'lookup', identity: ensureIdentityId(id) };
  if (method !== 'POST')
    throw new SwitchyardError(resource === undefined ? 'not_found' : 'method_not_allowed');

  if (resource === 'challenge' && id === undefined) {
    const body = parseDirectoryBody(input);
    const purpose = body.purpose as Purpose;
    if (!PURPOSES.includes(purpose)) throw new SwitchyardError('bad_request');
    return {
      kind: 'challenge',
      purpose,
      subject:
        purpose === 'create'
          ? { publicKey: ensurePublicKey(body.publicKey) }
          : { identity: ensureIdentityId(body.identity) },
    };
  }
  if (resource === 'identities' && id === undefined) {
    const body = parseDirectoryBody(input);
    const invite = body.invite === undefined ? undefined : text(body, 'invite', INVITE_MAX_CHARS);
    return {
      kind: 'create',
      publicKey: ensurePublicKey(body.publicKey),
      featureMask: body.featureMask === undefined ? 0 : ensureFeatureMask(body.featureMask),
      ...(invite ? { invite } : {}),
      proof: ensureProof(body),
      work: ensureWorkNonce(body.work),
    };
  }
  if (resource === 'identities' && id !== undefined && op !== undefined) {
    // The id in the path is checked before the body is read (400 before 413).
    const identity = ensureIdentityId(id);
    return ownerRequest(identity, op, parseDirectoryBody(input));
  }
  if (resource === 'lookup' && id === undefined) {
    const ids = parseDirectoryBody(input).identities;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > LIMITS.lookupMaxIds)
      throw new SwitchyardError('bad_request');
    return { kind: 'lookupMany', identities: ids.map(ensureIdentityId) };
  }
  if (resource === 'revoke' && id === undefined) {
    const body = parseDirectoryBody(input);
    return {
      kind: 'revoke',
      identity: ensureIdentityId(body.identity),
      password: text(body, 'password', LIMITS.revocationPasswordMaxChars),
      token: ensureToken(body.token),
      work: ensureWorkNonce(body.work),
    };
  }
  throw new SwitchyardError('not_found');
}
