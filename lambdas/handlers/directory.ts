/**
 * The directory's HTTP routes, all under `/directory/` (see docs/PROTOCOL.md). Thin: the request is
 * parsed in protocol/directory-requests.ts (path, size, then JSON shape into typed values), then
 * the domain, then a JSON reply. Keys and hashes are lowercase hex on the wire.
 */

import type { HttpHandler, HttpResult } from '../../contract/events.ts';
import { toHex } from '../../protocol/bytes.ts';
import { type DirectoryRequest, parseDirectoryRequest } from '../../protocol/directory-requests.ts';
import type { Directory } from '../domain/directory.ts';

function reply(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

const ok = () => reply(200, { ok: true });

async function run(directory: Directory, request: DirectoryRequest): Promise<HttpResult> {
  switch (request.kind) {
    case 'lookup': {
      const result = await directory.lookup(request.identity);
      return reply(200, {
        identity: result.identity,
        state: result.state,
        publicKey: toHex(result.publicKey!),
        featureMask: result.featureMask,
      });
    }
    case 'challenge': {
      const challenge = await directory.challenge(request.purpose, request.subject);
      // Registration and revocation pay proof of work; the answer says how much.
      const work =
        request.purpose === 'create'
          ? await directory.createWorkBits()
          : request.purpose === 'revoke' && 'identity' in request.subject
            ? await directory.revokeWorkBits(request.subject.identity)
            : undefined;
      return reply(200, {
        token: toHex(challenge.token),
        temporaryPublicKey: toHex(challenge.temporaryPublicKey),
        expiresAt: challenge.expiresAt,
        ...(work === undefined ? {} : { work }),
      });
    }
    case 'create': {
      const { publicKey, featureMask, invite, proof, work } = request;
      const identity = await directory.create(
        { publicKey, featureMask, ...(invite ? { invite } : {}) },
        proof,
        work,
      );
      return reply(201, { identity });
    }
    case 'lookupMany': {
      const results = await directory.lookupMany(request.identities);
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
    case 'featureMask':
      return directory.setFeatureMask(request.identity, request.featureMask, request.proof).then(ok);
    case 'link':
      return directory.link(request.identity, request.contact, request.address, request.proof).then(ok);
    case 'confirm':
      return directory.confirm(request.identity, request.contact, request.code, request.proof).then(ok);
    case 'unlink':
      return directory.unlink(request.identity, request.contact, request.proof).then(ok);
    case 'revocationPassword':
      return directory.setRevocationPassword(request.identity, request.password, request.proof).then(ok);
    case 'export':
      return reply(200, await directory.export(request.identity, request.proof));
    case 'delete':
      return directory.delete(request.identity, request.proof).then(ok);
    case 'match': {
      const matches = await directory.match(request.identity, request.hashes, request.proof);
      return reply(200, {
        matches: matches.map((m) => ({
          identity: m.identity,
          publicKey: toHex(m.publicKey),
          kind: m.kind,
          hash: toHex(m.hash),
        })),
      });
    }
    case 'revoke':
      await directory.revoke(request.identity, request.password, request.token, request.work);
      return ok();
  }
}

export function makeDirectoryHandler(deps: { readonly directory: Directory }): HttpHandler {
  const { directory } = deps;
  // A route of its own (`POST /directory/revoke`, the `revoke` function) has no {proxy+} parameter:
  // the path below /directory/ is the route key's.
  const ownPath = (routeKey: string) => /^[A-Z]+ \/directory\/([a-z]+)$/.exec(routeKey)?.[1];
  return async (event) =>
    run(
      directory,
      parseDirectoryRequest({
        method: event.requestContext.http.method,
        headers: event.headers,
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
        proxy: event.pathParameters?.proxy ?? ownPath(event.routeKey),
      }),
    );
}
