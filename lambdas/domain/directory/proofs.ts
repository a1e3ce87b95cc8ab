/**
 * Proof of key possession and the checks every directory operation shares: rate-limit windows,
 * single-use challenges, the constant-time response check, and authenticating an identity's owner.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../../protocol/bytes.ts';
import { constantTimeEqual, generateKeyPair } from '../../../protocol/crypto.ts';
import { CHALLENGE_TOKEN_BYTES, expectedResponse } from '../../../protocol/directory.ts';
import type { Purpose } from '../../../protocol/directory-requests.ts';
import { SwitchyardError } from '../../../protocol/errors.ts';
import type { IdentityId, PublicKey } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
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

/** An active identity's record, with its key. */
export type ActiveRecord = IdentityRecord & { publicKey: PublicKey };

/** The checks the directory's operations share, bound to one set of deps. */
export function createGuards(deps: DirectoryDeps) {
  const nowSeconds = () => epochSeconds(deps.clock.now());

  async function limit(scope: string, subject: string, max: number, windowSeconds: number, amount = 1) {
    const { key, endsAt } = rateWindow(scope, subject, windowSeconds, nowSeconds());
    if (!(await deps.ephemeral.consume(key, amount, max, endsAt))) throw new SwitchyardError('rate_limited');
  }

  /** Consumes the challenge and checks the response; any mismatch is challenge_invalid or proof_invalid. */
  async function verify(proof: Proof, request: SignedRequest, subject: string, clientPublic: Uint8Array) {
    const challenge = await deps.ephemeral.takeChallenge(proof.token);
    if (
      !challenge ||
      challenge.expiresAt < nowSeconds() ||
      challenge.purpose !== request.purpose ||
      challenge.subject !== subject
    ) {
      throw new SwitchyardError('challenge_invalid');
    }
    const expected = expectedResponse(challenge.temporarySecret, clientPublic, challenge.token, request);
    if (!constantTimeEqual(expected, proof.response)) throw new SwitchyardError('proof_invalid');
  }

  async function activeOwner(identity: IdentityId): Promise<ActiveRecord> {
    const record = await deps.identities.get(identity);
    if (record?.state !== 'active' || !record.publicKey) throw new SwitchyardError('not_found');
    return record as ActiveRecord;
  }

  /** Proves possession for an owner operation and returns the owner's record, last login updated. */
  async function authenticate(identity: IdentityId, proof: Proof, request: SignedRequest) {
    const owner = await activeOwner(identity);
    await verify(proof, request, identity, owner.publicKey);
    const today = utcDay(deps.clock.now());
    if (owner.lastLogin !== today) await deps.identities.update(identity, { lastLogin: today });
    return { ...owner, lastLogin: today };
  }

  /** Issues a single-use challenge for `purpose`, bound to a public key (create) or an identity. */
  async function challenge(purpose: Purpose, subject: { publicKey: PublicKey } | { identity: IdentityId }) {
    const subjectText = 'publicKey' in subject ? toHex(subject.publicKey) : subject.identity;
    if ('identity' in subject) await activeOwner(subject.identity);
    await limit('challenge', subjectText, LIMITS.challengesPerHour, 3600);
    const temporary = generateKeyPair();
    const issued: Challenge = {
      token: deps.random.bytes(CHALLENGE_TOKEN_BYTES),
      temporarySecret: temporary.secretKey,
      purpose,
      subject: subjectText,
      expiresAt: nowSeconds() + LIMITS.challengeTtlSeconds,
    };
    await deps.ephemeral.putChallenge(issued);
    return { token: issued.token, temporaryPublicKey: temporary.publicKey, expiresAt: issued.expiresAt };
  }

  return { nowSeconds, limit, verify, activeOwner, authenticate, challenge };
}

export type Guards = ReturnType<typeof createGuards>;
