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
import { DAY_SECONDS, type Guards, utcDay } from './proofs.ts';

export function createRegistration(deps: DirectoryDeps, guards: Guards) {
  return {
    /** Registers a public key under a new random identity, after proof of possession. */
    async create(
      input: { publicKey: PublicKey; featureMask: number; invite?: string },
      proof: Proof,
    ): Promise<IdentityId> {
      const request: SignedRequest = {
        purpose: 'create',
        publicKey: toHex(input.publicKey),
        featureMask: input.featureMask,
        invite: input.invite,
      };
      await guards.verify(proof, request, toHex(input.publicKey), input.publicKey);
      if (deps.registration === 'invite') {
        const digest = input.invite ? createHash('sha256').update(input.invite).digest() : undefined;
        if (!digest || !(await deps.ephemeral.takeInvite(new Uint8Array(digest)))) {
          throw new SwitchyardError('invite_required');
        }
      } else {
        await guards.limit('create', 'deployment', LIMITS.createsPerHour, 3600);
      }
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
        if (created) return identity;
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
