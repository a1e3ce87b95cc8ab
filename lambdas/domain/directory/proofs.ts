/**
 * Proof of key possession and the checks every directory operation shares: rate-limit windows,
 * single-use challenges, the constant-time response check, and authenticating an identity's owner.
 */
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual, generateKeyPair, keyPairFromSecret } from '../../../protocol/crypto.ts';
import { CHALLENGE_TOKEN_BYTES, canonicalJson, expectedResponse } from '../../../protocol/directory.ts';
import type { Purpose } from '../../../protocol/directory-requests.ts';
import { SwitchyardError } from '../../../protocol/errors.ts';
import type { IdentityId, PublicKey } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import { checkWork, workSeed } from '../../../protocol/work.ts';
import { epochSeconds } from '../clock.ts';
import type { Challenge, DirectoryDeps, IdentityRecord, Proof, SignedRequest } from './ports.ts';

export const DAY_SECONDS = 86_400;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Rate-limit windows name a digest of their subject, never the subject itself. */
export function rateWindow(
  scope: string,
  subject: string,
  windowSeconds: number,
  now: number,
): { key: string; endsAt: number } {
  const window = Math.floor(now / windowSeconds);
  const digest = createHash('sha256').update(subject).digest('hex').slice(0, 32);
  return { key: `${scope}:${digest}:${window}`, endsAt: (window + 1) * windowSeconds };
}

/** What the guards use: the vault function builds them too, with only these. */
export type GuardDeps = Pick<DirectoryDeps, 'identities' | 'ephemeral' | 'clock' | 'random'>;

/** An active identity's record, with its key. */
export type ActiveRecord = IdentityRecord & { publicKey: PublicKey };

/** The checks the directory's operations share, bound to one set of deps. */
export function createGuards(deps: GuardDeps) {
  const nowSeconds = () => epochSeconds(deps.clock.now());

  async function limit(scope: string, subject: string, max: number, windowSeconds: number, amount = 1) {
    const { key, endsAt } = rateWindow(scope, subject, windowSeconds, nowSeconds());
    if (!(await deps.ephemeral.consume(key, amount, max, endsAt))) throw new SwitchyardError('rate_limited');
  }

  const slotSeconds = LIMITS.challengeTtlSeconds / 2;

  /**
   * A token: slot (8 bytes, big-endian) ‖ random (8) ‖ tag (16), the tag an HMAC-SHA256 of the
   * first 16 bytes under the slot's secret. Distinct for every request, made up by nobody else.
   */
  function tokenFor(challenge: Challenge, random: Uint8Array): Uint8Array {
    const token = new Uint8Array(CHALLENGE_TOKEN_BYTES);
    new DataView(token.buffer).setBigUint64(0, BigInt(challenge.slot));
    token.set(random.subarray(0, 8), 8);
    const tag = createHmac('sha256', challenge.temporarySecret)
      .update('switchyard-token')
      .update(token.subarray(0, 16));
    token.set(new Uint8Array(tag.digest()).subarray(0, 16), 16);
    return token;
  }

  /** The challenge a token names, if the token is one the server issued and it is still good. */
  async function current(token: Uint8Array): Promise<Challenge> {
    const slot = new DataView(token.buffer, token.byteOffset, 8).getBigUint64(0);
    const challenge =
      slot <= BigInt(Number.MAX_SAFE_INTEGER) ? await deps.ephemeral.getChallenge(Number(slot)) : undefined;
    // TTL deletes lazily: the expiry is checked here, not left to DynamoDB.
    if (
      !challenge ||
      challenge.expiresAt < nowSeconds() ||
      !constantTimeEqual(tokenFor(challenge, token.subarray(8, 16)), token)
    ) {
      throw new SwitchyardError('challenge_invalid');
    }
    return challenge;
  }

  /**
   * Accepts a proof or a work stamp once: a marker named by a digest of what was used, written
   * only after it checked out, so nothing is stored for a wrong one and a replay is refused.
   */
  async function once(challenge: Challenge, ...used: Uint8Array[]) {
    const digest = createHash('sha256');
    for (const part of used) digest.update(part);
    const marker = new Uint8Array(digest.digest()).slice(0, 16);
    if (!(await deps.ephemeral.markUsed(marker, challenge.expiresAt))) {
      throw new SwitchyardError('challenge_invalid');
    }
  }

  /**
   * Checks the response against the token's challenge, then marks it used. The purpose, subject and
   * parameters are bound by the signed request; a wrong response spends nothing, so a stranger
   * who sees a token can't use it up for the owner.
   */
  async function verify(proof: Proof, request: SignedRequest, clientPublic: Uint8Array) {
    const challenge = await current(proof.token);
    const expected = expectedResponse(challenge.temporarySecret, clientPublic, proof.token, request);
    if (!constantTimeEqual(expected, proof.response)) throw new SwitchyardError('proof_invalid');
    await once(challenge, new TextEncoder().encode('proof'), proof.token, proof.response);
  }

  /**
   * Checks a proof of work (protocol/work.ts) of at least `bits` for `subject` on the token's
   * challenge: one SHA-256, before anything costly. Returns `spend`, which marks the stamp used:
   * a registration spends it only once its proof is right, so a stranger can't spend it first.
   */
  async function work(token: Uint8Array, nonce: Uint8Array, subject: SignedRequest, bits: number) {
    const challenge = await current(token);
    if (!checkWork(workSeed(token, subject), nonce, bits)) throw new SwitchyardError('work_required');
    const encoder = new TextEncoder();
    return () =>
      once(challenge, encoder.encode('work'), token, nonce, encoder.encode(canonicalJson(subject)));
  }

  async function activeOwner(identity: IdentityId): Promise<ActiveRecord> {
    const record = await deps.identities.get(identity);
    if (record?.state !== 'active' || !record.publicKey) throw new SwitchyardError('not_found');
    return record as ActiveRecord;
  }

  /** Proves possession for an owner operation and returns the owner's record, last login updated. */
  async function authenticate(identity: IdentityId, proof: Proof, request: SignedRequest) {
    const owner = await activeOwner(identity);
    await verify(proof, request, owner.publicKey);
    const today = utcDay(deps.clock.now());
    if (owner.lastLogin !== today) await deps.identities.update(identity, { lastLogin: today });
    return { ...owner, lastLogin: today };
  }

  /**
   * The challenge for `purpose`: the current slot's, the same for every request in the slot, so
   * asking costs no storage and no count a stranger could use up. Owner purposes still answer
   * not_found for an identity that is not active.
   */
  async function challenge(purpose: Purpose, subject: { publicKey: PublicKey } | { identity: IdentityId }) {
    if ('identity' in subject && purpose !== 'revoke' && purpose !== 'vaultCode')
      await activeOwner(subject.identity);
    const slot = Math.floor(nowSeconds() / slotSeconds);
    const issued = await deps.ephemeral.slotChallenge({
      slot,
      temporarySecret: generateKeyPair().secretKey,
      expiresAt: (slot + 2) * slotSeconds,
    });
    return {
      token: tokenFor(issued, deps.random.bytes(8)),
      temporaryPublicKey: keyPairFromSecret(issued.temporarySecret).publicKey,
      expiresAt: issued.expiresAt,
    };
  }

  return { nowSeconds, limit, verify, work, activeOwner, authenticate, challenge };
}

export type Guards = ReturnType<typeof createGuards>;
