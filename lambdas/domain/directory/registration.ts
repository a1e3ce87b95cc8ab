/**
 * Registration: a public key gets a new random identity after proof of possession, under the
 * deployment's policy (open and rate-limited, or by operator invite).
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../../protocol/bytes.ts';
import { SwitchyardError } from '../../../protocol/errors.ts';
import { type IdentityId, type PublicKey, randomIdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import { epochSeconds } from '../clock.ts';
import type { DirectoryDeps, Proof, SignedRequest } from './ports.ts';
import { DAY_SECONDS, type Guards, rateWindow, utcDay } from './proofs.ts';

/** What a registration's proof of work is bound to (protocol/work.ts). */
export function createWorkSubject(publicKey: PublicKey) {
  return { purpose: 'create', publicKey: toHex(publicKey) } as const;
}

export function createRegistration(deps: DirectoryDeps, guards: Guards) {
  /**
   * The work a registration needs now: the base, doubled for every `createsPerExtraWorkBit`
   * registrations of this hour. A shared count that only makes work dearer, never a refusal.
   */
  async function createWorkBits(): Promise<number> {
    const { key } = rateWindow('create', 'deployment', 3600, guards.nowSeconds());
    const count = await deps.ephemeral.count(key);
    return LIMITS.createWorkBits + Math.floor(count / LIMITS.createsPerExtraWorkBit);
  }

  return {
    createWorkBits,
    /** Registers a public key under a new random identity, after proof of possession. */
    async create(
      input: { publicKey: PublicKey; featureMask: number; invite?: string },
      proof: Proof,
      work: Uint8Array,
    ): Promise<IdentityId> {
      const request: SignedRequest = {
        purpose: 'create',
        publicKey: toHex(input.publicKey),
        featureMask: input.featureMask,
        invite: input.invite,
      };
      // Work first (one hash to refuse), then the proof, then the invite: a wrong proof never
      // spends an invite or the work, and nothing is stored for a request that did not pay.
      const spend = await guards.work(
        proof.token,
        work,
        createWorkSubject(input.publicKey),
        await createWorkBits(),
      );
      await guards.verify(proof, request, input.publicKey);
      await spend();
      if (deps.registration === 'invite') {
        const digest = input.invite ? createHash('sha256').update(input.invite).digest() : undefined;
        if (!digest || !(await deps.ephemeral.takeInvite(new Uint8Array(digest)))) {
          throw new SwitchyardError('invite_required');
        }
      }
      // Counted, never refused: the count only raises the work the next registrations need.
      await guards.limit('create', 'deployment', Number.MAX_SAFE_INTEGER, 3600);
      const today = utcDay(deps.clock.now());
      // 36^8 ≈ 2.8·10^12 ids: a collision is rare, and the conditional write makes it harmless.
      for (let attempt = 0; attempt < 5; attempt++) {
        const identity = randomIdentityId(deps.random.bytes);
        const created = await deps.identities.create({
          identity,
          state: 'active',
          publicKey: input.publicKey,
          featureMask: input.featureMask,
          issueDate: today,
          lastLogin: today,
        });
        if (created) {
          await deps.mailbox.open(identity);
          return identity;
        }
      }
      throw new SwitchyardError('unavailable');
    },

    /** Operator: issues an invite token (returned once; only its digest is stored). */
    createInvite: (): Promise<string> => issueInvite(deps),
  };
}

/**
 * Operator: issues an invite token (returned once; only its SHA-256 is stored, for
 * LIMITS.inviteTtlDays). Needs only the ephemeral store, so the operator's CLI issues invites
 * through this very function, straight to the table.
 */
export async function issueInvite(
  deps: Pick<DirectoryDeps, 'ephemeral' | 'clock' | 'random'>,
): Promise<string> {
  const token = toHex(deps.random.bytes(16));
  const digest = new Uint8Array(createHash('sha256').update(token).digest());
  await deps.ephemeral.putInvite(digest, epochSeconds(deps.clock.now()) + LIMITS.inviteTtlDays * DAY_SECONDS);
  return token;
}
