/**
 * The backup key vault client (docs/PROTOCOL.md, "Vault"): keeps a 32-byte key on the server under a
 * short password, with a hard limit on wrong passwords. The password never leaves the device: OPAQUE
 * (RFC 9807, `@serenity-kit/opaque`, Node.js and browsers) proves it, and the key travels wrapped
 * under the OPAQUE export key, which only the password gives.
 *
 * Storing and deleting prove possession of the identity's key. Opening needs a verification code sent
 * to an address linked to the identity (`requestCode`), or the identity's key; each attempt spends
 * one of the vault's tries, a right password restores them.
 */
import * as opaque from '@serenity-kit/opaque';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import type { ContactKind } from '../../protocol/contacts.ts';
import { answerChallenge } from '../../protocol/directory.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { unwrapVaultKey, vaultCodeWorkSubject, vaultSigned, wrapVaultKey } from '../../protocol/vault.ts';
import { solveWork, workSeed } from '../../protocol/work.ts';
import { serviceUrl } from '../service-url.ts';

export interface VaultOptions {
  /** The HTTP API base URL, e.g. `http://127.0.0.1:8080/` or the stack's `HttpApiUrl`. */
  readonly server: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** A refusal from the vault, with its stable error code (docs/PROTOCOL.md). */
export class VaultError extends Error {
  constructor(
    readonly code: ErrorCode | 'unreachable' | 'unexpected',
    readonly status: number,
  ) {
    super(`Vault refused the request: ${code} (HTTP ${status})`);
    this.name = 'VaultError';
  }
}

/** How an attempt is unlocked: a code sent to a linked address, or the identity's secret key. */
export type VaultGate =
  | { readonly request: Uint8Array; readonly code: string }
  | { readonly secretKey: Uint8Array };

type Json = Record<string, unknown>;

const b64 = (bytes: Uint8Array) => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
};
const unb64 = (text: string) =>
  Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));

function hexField(json: Json, name: string): Uint8Array {
  const bytes = typeof json[name] === 'string' ? fromHex(json[name] as string) : undefined;
  if (!bytes) throw new VaultError('unexpected', 200);
  return bytes;
}

export class VaultClient {
  private readonly base: URL;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: VaultOptions) {
    this.base = serviceUrl(options.server, 'vault/', 'vault');
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  private async call(path: string, body: Json): Promise<Json> {
    let response: Response;
    try {
      response = await this.fetch(new URL(path, this.base), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new VaultError('unreachable', 0);
    }
    const json = (await response.json().catch(() => ({}))) as Json;
    if (!response.ok)
      throw new VaultError(
        typeof json.error === 'string' ? (json.error as ErrorCode) : 'unexpected',
        response.status,
      );
    return json;
  }

  private async challenge(identity: string) {
    const json = await this.call('challenge', { identity });
    const work = Number(json.work);
    if (!Number.isInteger(work) || work < 0 || work > LIMITS.vaultCodeWorkBitsMax)
      throw new VaultError('unexpected', 200);
    return { token: hexField(json, 'token'), temporary: hexField(json, 'temporaryPublicKey'), work };
  }

  /** The proof fields for `request`, answering a fresh challenge with the identity's secret key. */
  private async prove(identity: string, secretKey: Uint8Array, request: Json): Promise<Json> {
    const { token, temporary } = await this.challenge(identity);
    return { token: toHex(token), response: toHex(answerChallenge(secretKey, temporary, token, request)) };
  }

  /**
   * Stores `key` (32 bytes) under `password`, replacing any vault the identity had; `tries` wrong
   * passwords (1–10) are allowed before the vault is deleted for good. Needs an address linked to
   * the identity that the server sends codes to (`address_required` otherwise).
   */
  async store(identity: string, secretKey: Uint8Array, password: string, key: Uint8Array, tries: number) {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const request = toHex(unb64(registrationRequest));
    const registered = await this.call(`identities/${identity}/register`, {
      request,
      ...(await this.prove(identity, secretKey, vaultSigned.register(identity, request))),
    });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({
      clientRegistrationState,
      registrationResponse: b64(hexField(registered, 'response')),
      password,
    });
    const record = toHex(unb64(registrationRecord));
    // The server's random credential for this registration: stored with the record, sent back as is.
    const credential = toHex(hexField(registered, 'credential'));
    const wrapped = toHex(wrapVaultKey(unb64(exportKey), identity, key));
    await this.call(`identities/${identity}/store`, {
      record,
      credential,
      wrapped,
      tries,
      ...(await this.prove(
        identity,
        secretKey,
        vaultSigned.store(identity, record, credential, wrapped, tries),
      )),
    });
  }

  /** Deletes the identity's vault. */
  async delete(identity: string, secretKey: Uint8Array): Promise<void> {
    await this.call(`identities/${identity}/delete`, {
      ...(await this.prove(identity, secretKey, vaultSigned.delete(identity))),
    });
  }

  /**
   * Asks for a code to `address` (which must be linked to the identity) that unlocks one attempt;
   * pays the proof of work the server asks for. Returns the request handle the code belongs to.
   * The server answers the same whether or not a code was sent.
   */
  async requestCode(identity: string, kind: ContactKind, address: string): Promise<Uint8Array> {
    for (let round = 1; ; round++) {
      const { token, work } = await this.challenge(identity);
      const nonce = await solveWork(workSeed(token, vaultCodeWorkSubject(identity as never)), work);
      try {
        const json = await this.call(`identities/${identity}/code`, {
          kind,
          address,
          token: toHex(token),
          work: toHex(nonce),
        });
        return hexField(json, 'request');
      } catch (error) {
        const again =
          error instanceof VaultError &&
          (error.code === 'work_required' || error.code === 'challenge_invalid');
        if (!again || round >= 3) throw error;
      }
    }
  }

  /**
   * Opens the vault: spends one try, and with the right password restores the tries and returns the
   * key. A wrong password (or no vault) is `vault_login_failed`.
   */
  async open(identity: string, password: string, gate: VaultGate): Promise<Uint8Array> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const ke1 = toHex(unb64(startLoginRequest));
    const unlock =
      'secretKey' in gate
        ? await this.prove(identity, gate.secretKey, vaultSigned.open(identity, ke1))
        : { request: toHex(gate.request), code: gate.code };
    const started = await this.call(`identities/${identity}/start`, { ke1, ...unlock });
    const login = hexField(started, 'login');
    const finished = opaque.client.finishLogin({
      clientLoginState,
      loginResponse: b64(hexField(started, 'ke2')),
      password,
    });
    // A wrong password: the client cannot even form KE3. The try is spent; nothing more to send.
    if (!finished) throw new VaultError('vault_login_failed', 403);
    const released = await this.call(`identities/${identity}/finish`, {
      login: toHex(login),
      ke3: toHex(unb64(finished.finishLoginRequest)),
    });
    return unwrapVaultKey(unb64(finished.exportKey), identity, hexField(released, 'wrapped'));
  }
}
