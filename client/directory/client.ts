/**
 * The directory client: create an identity by proving possession of its key, look identities up,
 * run owner operations (each answers a fresh single-use challenge), revoke with the revocation
 * password, and match contacts by hash. Keys never leave the device; only public keys and
 * challenge responses are sent.
 */
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { type ContactKind, contactHash, normaliseContact } from '../../protocol/contacts.ts';
import type { KeyPair } from '../../protocol/crypto.ts';
import { answerChallenge } from '../../protocol/directory.ts';
import type { ErrorCode } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { solveWork, workSeed } from '../../protocol/work.ts';
import { serviceUrl } from '../service-url.ts';

/** The most work the client does for one request, in bits; a server asking more is refused. */
const MAX_WORK_BITS = Math.max(LIMITS.revocationWorkBitsMax, LIMITS.createWorkBits + 12);
/** Challenges one registration or revocation asks for before it gives up. */
const WORK_ROUNDS = LIMITS.revocationWorkBitsMax - LIMITS.revocationWorkBits + 2;

export interface DirectoryOptions {
  /** The HTTP API base URL, e.g. `http://127.0.0.1:8080/` or the stack's `HttpApiUrl`. */
  readonly server: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** A refusal from the directory, with its stable error code (docs/PROTOCOL.md). */
export class DirectoryError extends Error {
  constructor(
    readonly code: ErrorCode | 'unreachable' | 'unexpected',
    readonly status: number,
  ) {
    super(`Directory refused the request: ${code} (HTTP ${status})`);
    this.name = 'DirectoryError';
  }
}

export interface LookupEntry {
  readonly identity: IdentityId;
  /** 0 active, 2 invalid (revoked, deleted or never issued). */
  readonly state: 0 | 2;
  readonly publicKey?: Uint8Array;
  readonly featureMask?: number;
}

export interface ContactMatch {
  readonly identity: IdentityId;
  readonly publicKey: Uint8Array;
  readonly kind: ContactKind;
  /** The address, as given to `match`, whose hash matched. */
  readonly address: string;
}

type Json = Record<string, unknown>;

export class DirectoryClient {
  private readonly base: URL;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: DirectoryOptions) {
    this.base = serviceUrl(options.server, 'directory/', 'directory');
    // Bound: browsers refuse a fetch called as a method of another object ("Illegal invocation").
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body?: Json,
  ): Promise<{ status: number; json: Json }> {
    let response: Response;
    try {
      response = await this.fetch(new URL(path, this.base), {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new DirectoryError('unreachable', 0);
    }
    const json = (await response.json().catch(() => ({}))) as Json;
    if (!response.ok) {
      throw new DirectoryError(
        typeof json.error === 'string' ? (json.error as ErrorCode) : 'unexpected',
        response.status,
      );
    }
    return { status: response.status, json };
  }

  /** Asks for a challenge for `purpose` and `subject`: the token, the temporary key and the work asked. */
  private async challenge(purpose: unknown, subject: Json) {
    const { json } = await this.call('POST', 'challenge', { purpose, ...subject });
    const token = fromHex(String(json.token));
    const temporary = fromHex(String(json.temporaryPublicKey));
    const work = json.work === undefined ? 0 : Number(json.work);
    if (!token || !temporary || !Number.isInteger(work) || work < 0 || work > MAX_WORK_BITS)
      throw new DirectoryError('unexpected', 200);
    return { token, temporary, work };
  }

  /** Asks for a challenge and answers it for `request`; returns the fields to send with it. */
  private async prove(secretKey: Uint8Array, subject: Json, request: Json): Promise<Json> {
    const { token, temporary } = await this.challenge(request.purpose, subject);
    return { token: toHex(token), response: toHex(answerChallenge(secretKey, temporary, token, request)) };
  }

  /**
   * Runs `attempt` with a fresh challenge and its proof of work; asks again when the server wants
   * more work than was asked (others raised it meanwhile) or the challenge ran out. The work only
   * rises to a cap, so this ends.
   */
  private async withWork<T>(
    purpose: string,
    subject: Json,
    attempt: (token: Uint8Array, temporary: Uint8Array, work: Uint8Array) => Promise<T>,
  ): Promise<T> {
    for (let round = 1; ; round++) {
      const { token, temporary, work } = await this.challenge(purpose, subject);
      const nonce = await solveWork(workSeed(token, { purpose, ...subject }), work);
      try {
        return await attempt(token, temporary, nonce);
      } catch (error) {
        const again =
          error instanceof DirectoryError &&
          (error.code === 'work_required' || error.code === 'challenge_invalid');
        if (!again || round >= WORK_ROUNDS) throw error;
      }
    }
  }

  /** Registers `keys.publicKey` under a new random identity. */
  async createIdentity(
    keys: KeyPair,
    options: { invite?: string; featureMask?: number } = {},
  ): Promise<IdentityId> {
    const publicKey = toHex(keys.publicKey);
    const featureMask = options.featureMask ?? 0;
    const request = { purpose: 'create', publicKey, featureMask, invite: options.invite };
    return this.withWork('create', { publicKey }, async (token, temporary, work) => {
      const { json } = await this.call('POST', 'identities', {
        publicKey,
        featureMask,
        invite: options.invite,
        token: toHex(token),
        response: toHex(answerChallenge(keys.secretKey, temporary, token, request)),
        work: toHex(work),
      });
      return json.identity as IdentityId;
    });
  }

  /** One identity's public key and feature mask, or undefined when it is not active. */
  async lookup(identity: string): Promise<LookupEntry | undefined> {
    try {
      const { json } = await this.call('GET', `identities/${encodeURIComponent(identity)}`);
      return {
        identity: json.identity as IdentityId,
        state: 0,
        publicKey: fromHex(String(json.publicKey))!,
        featureMask: Number(json.featureMask),
      };
    } catch (error) {
      if (error instanceof DirectoryError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  /** Up to 100 identities at once, in request order. */
  async lookupMany(identities: readonly string[]): Promise<LookupEntry[]> {
    const { json } = await this.call('POST', 'lookup', { identities });
    return (json.results as Json[]).map((entry) => ({
      identity: entry.identity as IdentityId,
      state: entry.state === 0 ? 0 : 2,
      ...(typeof entry.publicKey === 'string' ? { publicKey: fromHex(entry.publicKey)! } : {}),
      ...(typeof entry.featureMask === 'number' ? { featureMask: entry.featureMask } : {}),
    }));
  }

  /**
   * Revokes an identity without its device. Destroys it for good. Pays the proof of work the
   * server asks for (more after many wrong attempts on this identity, up to a cap).
   */
  async revoke(identity: string, password: string): Promise<void> {
    await this.withWork('revoke', { identity }, async (token, _temporary, work) => {
      await this.call('POST', 'revoke', { identity, password, token: toHex(token), work: toHex(work) });
    });
  }

  /** Operations of the identity's owner, each proven with `secretKey`. */
  owner(identity: IdentityId, secretKey: Uint8Array) {
    const run = async (purpose: string, params: Json = {}) => {
      const request = { purpose, identity, ...params };
      const proof = await this.prove(secretKey, { identity }, request);
      return (await this.call('POST', `identities/${identity}/${purpose}`, { ...params, ...proof })).json;
    };
    return {
      setFeatureMask: async (featureMask: number) => void (await run('featureMask', { featureMask })),
      /** Sends a verification code to the address; confirm with the code to link it. */
      link: async (kind: ContactKind, address: string) => void (await run('link', { kind, address })),
      confirm: async (kind: ContactKind, code: string) => void (await run('confirm', { kind, code })),
      unlink: async (kind: ContactKind) => void (await run('unlink', { kind })),
      setRevocationPassword: async (password: string) => void (await run('revocationPassword', { password })),
      /** Everything the server stores about this identity (`*MY3DATA` keys). */
      export: async () => run('export'),
      /** Deletes the identity and its waiting messages. */
      delete: async () => void (await run('delete')),
      /** Finds identities linked to these addresses; only their hashes are sent. */
      match: async (contacts: {
        emails?: readonly string[];
        phones?: readonly string[];
      }): Promise<ContactMatch[]> => {
        // The addresses stay here: only their hashes go out, and the answer's hashes map back.
        const addresses = new Map<string, string>();
        const hashes = (kind: ContactKind, values: readonly string[] = []) =>
          values.map((value) => {
            const hash = toHex(contactHash(kind, normaliseContact(kind, value)));
            addresses.set(`${kind}:${hash}`, value);
            return hash;
          });
        const json = await run('match', {
          emailHashes: hashes('email', contacts.emails),
          phoneHashes: hashes('phone', contacts.phones),
        });
        return (json.matches as Json[]).map((m) => ({
          identity: m.identity as IdentityId,
          publicKey: fromHex(String(m.publicKey))!,
          kind: m.kind as ContactKind,
          address: addresses.get(`${m.kind}:${m.hash}`) ?? '',
        }));
      },
    };
  }
}
