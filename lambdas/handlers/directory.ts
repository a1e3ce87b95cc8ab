/**
 * The directory's HTTP routes, all under `/directory/` (see docs/PROTOCOL.md). Thin: size, then
 * JSON shape into typed values, then the domain, then a JSON reply. Keys and hashes are lowercase
 * hex on the wire; bodies are JSON objects of at most LIMITS.directoryBodyBytes.
 *
 *   POST /directory/challenge                {purpose, publicKey | identity}
 *   POST /directory/identities               {publicKey, featureMask?, invite?, token, response}
 *   GET  /directory/identities/{id}
 *   POST /directory/lookup                   {identities: [id…]}
 *   POST /directory/identities/{id}/{op}     {token, response, …}   op ∈ featureMask link confirm
 *                                                                    unlink revocationPassword export
 *                                                                    delete match
 *   POST /directory/revoke                   {identity, password}
 */

import { bodyBytes, type HttpEvent, type HttpHandler, type HttpResult } from '../../contract/events.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { CONTACT_HASH_BYTES, type ContactKind, isContactKind } from '../../protocol/contacts.ts';
import { CHALLENGE_TOKEN_BYTES, RESPONSE_BYTES } from '../../protocol/directory.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import {
  ensureFeatureMask,
  ensureIdentityId,
  ensurePublicKey,
  type IdentityId,
} from '../../protocol/identity.ts';
import { parseJsonObject } from '../../protocol/json.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { type Directory, OWNER_PURPOSES, type Proof, type Purpose } from '../domain/directory.ts';

type Body = Readonly<Record<string, unknown>>;

function reply(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/** Size first (declared, then actual), then a JSON object. */
function parseBody(event: HttpEvent): Body {
  const declared = Number(event.headers?.['content-length'] ?? 0);
  if (declared > LIMITS.directoryBodyBytes) throw new SwitchyardError('too_large');
  const bytes = bodyBytes(event);
  if (bytes.length > LIMITS.directoryBodyBytes) throw new SwitchyardError('too_large');
  return parseJsonObject(bytes.toString('utf8'));
}

function hexField(body: Body, name: string, length: number): Uint8Array {
  const value = body[name];
  const bytes = typeof value === 'string' ? fromHex(value) : undefined;
  if (!bytes || bytes.length !== length) throw new SwitchyardError('bad_request');
  return bytes;
}

function stringField(body: Body, name: string, maxChars: number, minChars = 1): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length < minChars || value.length > maxChars)
    throw new SwitchyardError('bad_request');
  return value;
}

function kindField(body: Body): ContactKind {
  if (!isContactKind(body.kind)) throw new SwitchyardError('bad_request');
  return body.kind;
}

function proofOf(body: Body): Proof {
  return {
    token: hexField(body, 'token', CHALLENGE_TOKEN_BYTES),
    response: hexField(body, 'response', RESPONSE_BYTES),
  };
}

function hashList(body: Body, name: string): Uint8Array[] {
  const value = body[name] ?? [];
  if (!Array.isArray(value) || value.length > LIMITS.matchMaxHashes) throw new SwitchyardError('bad_request');
  return value.map((entry) => {
    const bytes = typeof entry === 'string' ? fromHex(entry) : undefined;
    if (!bytes || bytes.length !== CONTACT_HASH_BYTES) throw new SwitchyardError('bad_request');
    return bytes;
  });
}

const PURPOSES: readonly Purpose[] = ['create', ...OWNER_PURPOSES];

function ownerOperation(
  directory: Directory,
  identity: IdentityId,
  op: string,
  body: Body,
): Promise<HttpResult> {
  const proof = proofOf(body);
  const done = (promise: Promise<void>) => promise.then(() => reply(200, { ok: true }));
  switch (op) {
    case 'featureMask':
      return done(directory.setFeatureMask(identity, ensureFeatureMask(body.featureMask), proof));
    case 'link':
      return done(directory.link(identity, kindField(body), stringField(body, 'address', 254), proof));
    case 'confirm':
      return done(directory.confirm(identity, kindField(body), stringField(body, 'code', 6, 6), proof));
    case 'unlink':
      return done(directory.unlink(identity, kindField(body), proof));
    case 'revocationPassword':
      return done(
        directory.setRevocationPassword(
          identity,
          stringField(body, 'password', LIMITS.revocationPasswordMaxChars, LIMITS.revocationPasswordMinChars),
          proof,
        ),
      );
    case 'export':
      return directory.export(identity, proof).then((data) => reply(200, data));
    case 'delete':
      return done(directory.delete(identity, proof));
    case 'match': {
      const email = hashList(body, 'emailHashes');
      const phone = hashList(body, 'phoneHashes');
      if (email.length + phone.length > LIMITS.matchMaxHashes) throw new SwitchyardError('bad_request');
      return directory.match(identity, { email, phone }, proof).then((matches) =>
        reply(200, {
          matches: matches.map((m) => ({
            identity: m.identity,
            publicKey: toHex(m.publicKey),
            kind: m.kind,
            hash: toHex(m.hash),
          })),
        }),
      );
    }
    default:
      throw new SwitchyardError('not_found');
  }
}

export function makeDirectoryHandler(deps: { readonly directory: Directory }): HttpHandler {
  const { directory } = deps;
  return async (event) => {
    const method = event.requestContext.http.method;
    const parts = (event.pathParameters?.proxy ?? '').split('/').filter((part) => part !== '');
    const [resource, id, op, ...rest] = parts;
    if (rest.length > 0) throw new SwitchyardError('not_found');

    if (resource === 'identities' && id !== undefined && op === undefined && method === 'GET') {
      const result = await directory.lookup(ensureIdentityId(id));
      return reply(200, {
        identity: result.identity,
        state: result.state,
        publicKey: toHex(result.publicKey!),
        featureMask: result.featureMask,
      });
    }
    if (method !== 'POST')
      throw new SwitchyardError(resource === undefined ? 'not_found' : 'method_not_allowed');

    if (resource === 'challenge' && id === undefined) {
      const body = parseBody(event);
      const purpose = body.purpose as Purpose;
      if (!PURPOSES.includes(purpose)) throw new SwitchyardError('bad_request');
      const subject =
        purpose === 'create'
          ? { publicKey: ensurePublicKey(body.publicKey) }
          : { identity: ensureIdentityId(body.identity) };
      const challenge = await directory.challenge(purpose, subject);
      return reply(200, {
        token: toHex(challenge.token),
        temporaryPublicKey: toHex(challenge.temporaryPublicKey),
        expiresAt: challenge.expiresAt,
      });
    }
    if (resource === 'identities' && id === undefined) {
      const body = parseBody(event);
      const invite = body.invite === undefined ? undefined : stringField(body, 'invite', 64);
      const identity = await directory.create(
        {
          publicKey: ensurePublicKey(body.publicKey),
          featureMask: body.featureMask === undefined ? 0 : ensureFeatureMask(body.featureMask),
          ...(invite ? { invite } : {}),
        },
        proofOf(body),
      );
      return reply(201, { identity });
    }
    if (resource === 'identities' && id !== undefined && op !== undefined) {
      const identity = ensureIdentityId(id);
      return ownerOperation(directory, identity, op, parseBody(event));
    }
    if (resource === 'lookup' && id === undefined) {
      const body = parseBody(event);
      const ids = body.identities;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > LIMITS.lookupMaxIds)
        throw new SwitchyardError('bad_request');
      const results = await directory.lookupMany(ids.map(ensureIdentityId));
      return reply(200, {
        results: results.map((r) =>
          r.state === 0
            ? {
                identity: r.identity,
                state: r.state,
                publicKey: toHex(r.publicKey!),
                featureMask: r.featureMask,
              }
            : { identity: r.identity, state: r.state },
        ),
      });
    }
    if (resource === 'revoke' && id === undefined) {
      const body = parseBody(event);
      await directory.revoke(
        ensureIdentityId(body.identity),
        stringField(body, 'password', LIMITS.revocationPasswordMaxChars),
      );
      return reply(200, { ok: true });
    }
    throw new SwitchyardError('not_found');
  };
}
