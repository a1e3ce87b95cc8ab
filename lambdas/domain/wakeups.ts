/**
 * Push targets and content-free wake-ups. An identity's owner registers where it can be woken (Web
 * Push / UnifiedPush subscriptions, FCM and APNs tokens); when a message waits for it and it has no
 * live session, each target gets one wake-up that says nothing but "something waits": the same
 * bytes for every recipient and every message. At most one per recipient per debounce interval;
 * targets the provider reports gone are removed. No AWS imports: storage and providers are ports.
 */
import { createHash } from 'node:crypto';
import { toHex } from '../../protocol/bytes.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import {
  type PushKind,
  type PushTarget,
  type PushTargetId,
  type PushTargetView,
  pushTargetAddress,
} from '../../protocol/push-targets.ts';
import type { OwnerState } from './chat.ts';
import { type Clock, epochSeconds } from './clock.ts';

// ─── Ports ──────────────────────────────────────────────────────────────────────────────────────

export interface StoredPushTarget {
  readonly id: PushTargetId;
  readonly target: PushTarget;
}

export interface PushTargetStore {
  list(identity: IdentityId): Promise<StoredPushTarget[]>;
  /** Adds or replaces target `id`; 'full' (and nothing changed) when `max` others are registered. */
  put(identity: IdentityId, target: StoredPushTarget, max: number): Promise<'stored' | 'full'>;
  /** Removes target `id` (a no-op when it is not registered). */
  remove(identity: IdentityId, id: PushTargetId): Promise<void>;
  /**
   * Claims the recipient's wake-up in one conditional write: when it has targets and was last woken
   * at least `debounceSeconds` ago (or never), records `nowSeconds` and returns its targets;
   * otherwise undefined.
   */
  claim(
    identity: IdentityId,
    nowSeconds: number,
    debounceSeconds: number,
  ): Promise<StoredPushTarget[] | undefined>;
  /** Gives back a claim made at `nowSeconds` (every send failed for now), so a retry may wake. */
  release(identity: IdentityId, nowSeconds: number): Promise<void>;
}

/** The mailbox owner record: whether the identity receives, and its live sessions. */
export interface OwnerReader {
  owner(identity: IdentityId): Promise<OwnerState | undefined>;
}

export type WakeOutcome = 'sent' | 'gone' | 'failed';

/** One provider (Web Push, FCM, APNs): sends the constant wake-up to one target. */
export interface WakeSender {
  send(target: PushTarget): Promise<WakeOutcome>;
}

export interface WakeupDeps {
  readonly targets: PushTargetStore;
  readonly owners: OwnerReader;
  /** The providers this deployment has credentials for; Web Push serves webpush and unifiedpush. */
  readonly senders: Partial<Record<PushKind, WakeSender>>;
  readonly clock: Clock;
  readonly debounceSeconds: number;
}

export interface PushTargetDeps {
  readonly targets: PushTargetStore;
  /** The kinds this deployment sends to. */
  readonly kinds: readonly PushKind[];
}

// ─── Rules ──────────────────────────────────────────────────────────────────────────────────────

/** A target's id: the first 8 bytes of SHA-256(kind ‖ 0x00 ‖ address), so re-registering replaces. */
export function pushTargetId(target: PushTarget): PushTargetId {
  const digest = createHash('sha256')
    .update(`${target.kind}\0${pushTargetAddress(target)}`)
    .digest();
  return toHex(new Uint8Array(digest.subarray(0, 8))) as PushTargetId;
}

function view({ id, target }: StoredPushTarget): PushTargetView {
  return { id, kind: target.kind, address: pushTargetAddress(target) };
}

/** What the owner does with its targets over its session. */
export function createPushTargets(deps: PushTargetDeps) {
  const list = async (identity: IdentityId) => (await deps.targets.list(identity)).map(view);
  return {
    list,
    async add(identity: IdentityId, target: PushTarget): Promise<PushTargetView[]> {
      if (!deps.kinds.includes(target.kind)) throw new SwitchyardError('not_supported');
      const stored = await deps.targets.put(
        identity,
        { id: pushTargetId(target), target },
        LIMITS.pushTargetsPerIdentity,
      );
      if (stored === 'full') throw new SwitchyardError('too_many_targets');
      return list(identity);
    },
    async remove(identity: IdentityId, id: PushTargetId): Promise<PushTargetView[]> {
      await deps.targets.remove(identity, id);
      return list(identity);
    },
  };
}

export type PushTargets = ReturnType<typeof createPushTargets>;

/** What one recipient's wake-up came to (counts only: nothing here names the recipient). */
export type WakeResult = 'online' | 'closed' | 'debounced' | 'woken' | 'failed';

export function createWakeups(deps: WakeupDeps) {
  /** Sends to every target the deployment serves; gone ones are removed. */
  async function sendAll(identity: IdentityId, targets: readonly StoredPushTarget[]) {
    const outcomes = await Promise.all(
      targets.map(async ({ id, target }) => {
        const sender = deps.senders[target.kind];
        if (!sender) return 'skipped' as const;
        const outcome = await sender.send(target).catch((): WakeOutcome => 'failed');
        if (outcome === 'gone') await deps.targets.remove(identity, id);
        return outcome;
      }),
    );
    return outcomes;
  }

  return {
    /**
     * Wakes one recipient for whom a message waits: nothing when the mailbox is closed or the
     * recipient has a live session, nothing within the debounce interval of the last wake-up.
     * 'failed' when no target took the wake-up and one failed transiently: the claim is given back
     * so the stream's retry can wake again.
     */
    async wake(identity: IdentityId): Promise<WakeResult> {
      const now = epochSeconds(deps.clock.now());
      const owner = await deps.owners.owner(identity);
      if (!owner?.active) return 'closed';
      if (owner.sessions.some((session) => session.expiresAt > now)) return 'online';
      const targets = await deps.targets.claim(identity, now, deps.debounceSeconds);
      if (!targets) return 'debounced';
      const outcomes = await sendAll(identity, targets);
      if (outcomes.includes('failed') && !outcomes.includes('sent')) {
        await deps.targets.release(identity, now);
        return 'failed';
      }
      return 'woken';
    },
  };
}

export type Wakeups = ReturnType<typeof createWakeups>;
