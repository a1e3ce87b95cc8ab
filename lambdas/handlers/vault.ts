/**
 * The vault's HTTP routes, all `POST` under `/vault/` (see docs/PROTOCOL.md, "Vault"). Thin: the
 * request is parsed in protocol/vault.ts, then the domain, then a JSON reply. Bytes are lowercase hex.
 */
import type { HttpHandler, HttpResult } from '../../contract/events.ts';
import { toHex } from '../../protocol/bytes.ts';
import { parseVaultRequest, type VaultRequest } from '../../protocol/vault.ts';
import type { Vault } from '../domain/vault.ts';

function reply(statusCode: number, body: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

async function run(vault: Vault, request: VaultRequest): Promise<HttpResult> {
  switch (request.kind) {
    case 'challenge': {
      const challenge = await vault.challenge(request.identity);
      return reply(200, {
        token: toHex(challenge.token),
        temporaryPublicKey: toHex(challenge.temporaryPublicKey),
        expiresAt: challenge.expiresAt,
        work: challenge.work,
      });
    }
    case 'register': {
      const { response, credential } = await vault.register(request.identity, request.request, request.proof);
      return reply(200, { response: toHex(response), credential: toHex(credential) });
    }
    case 'store':
      await vault.store(
        request.identity,
        request.record,
        request.credential,
        request.wrapped,
        request.tries,
        request.proof,
      );
      return reply(200, { ok: true });
    case 'delete':
      await vault.delete(request.identity, request.proof);
      return reply(200, { ok: true });
    case 'code': {
      const handle = await vault.requestCode(
        request.identity,
        request.contact,
        request.address,
        request.token,
        request.work,
      );
      return reply(202, { request: toHex(handle) });
    }
    case 'start': {
      const { identity, ke1, gate } = request;
      const started =
        gate.kind === 'code'
          ? await vault.startWithCode(identity, gate.request, gate.code, ke1)
          : await vault.startWithProof(identity, ke1, gate.proof);
      return reply(200, { login: toHex(started.login), ke2: toHex(started.ke2) });
    }
    case 'finish': {
      const wrapped = await vault.finish(request.identity, request.login, request.ke3);
      return reply(200, { wrapped: toHex(wrapped) });
    }
  }
}

export function makeVaultHandler(deps: { readonly vault: Vault }): HttpHandler {
  return async (event) =>
    run(
      deps.vault,
      parseVaultRequest({
        method: event.requestContext.http.method,
        headers: event.headers,
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
        proxy: event.pathParameters?.proxy,
      }),
    );
}
