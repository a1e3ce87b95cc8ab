/**
 * Push targets (docs/PROTOCOL.md, "Push wake-ups"): where the server sends a content-free wake-up
 * while a message waits and no session of this identity is connected. Session requests on the chat
 * socket (client/chat/session.ts `request`), so only the logged-in owner sees and changes its own.
 *
 *   const { vapidKey } = await listPushTargets(session);
 *   // a browser: registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: vapidKey })
 *   await addPushTarget(session, { kind: 'webpush', endpoint, p256dh, auth });
 *   await addPushTarget(session, { kind: 'fcm', token });
 */
import {
  PUSH_TARGETS_ERROR,
  PUSH_TARGETS_REPLY,
  type PushKind,
  type PushTargetId,
} from '../../protocol/push-targets.ts';
import type { ChatSession } from '../chat/session.ts';
import { ChatError } from '../chat/types.ts';
import { requestId } from '../media/client.ts';

export type { PushKind, PushTargetId };

/** A target to register: a Web Push / UnifiedPush subscription (keys base64url) or a device token. */
export type NewPushTarget =
  | {
      readonly kind: 'webpush' | 'unifiedpush';
      readonly endpoint: string;
      /** `PushSubscription.toJSON().keys.p256dh` (base64url). */
      readonly p256dh: string;
      /** `PushSubscription.toJSON().keys.auth` (base64url). */
      readonly auth: string;
    }
  | { readonly kind: 'fcm' | 'apns'; readonly token: string };

export interface PushTargetEntry {
  readonly id: PushTargetId;
  readonly kind: PushKind;
  /** The endpoint (webpush, unifiedpush) or the token (fcm, apns). */
  readonly address: string;
}

export interface PushTargetList {
  readonly targets: readonly PushTargetEntry[];
  /** The server's VAPID public key (base64url): `applicationServerKey` of a browser subscription. */
  readonly vapidKey: string;
  /** The kinds the server sends to. */
  readonly kinds: readonly PushKind[];
}

const ANSWERS = { reply: PUSH_TARGETS_REPLY, error: PUSH_TARGETS_ERROR } as const;

function parseList(answer: Record<string, unknown>): PushTargetList {
  const { targets, vapidKey, kinds } = answer;
  if (!Array.isArray(targets) || typeof vapidKey !== 'string' || !Array.isArray(kinds))
    throw new ChatError('protocol', 'The server answered with an unexpected push target list.');
  return {
    targets: targets.map((raw: Record<string, unknown>) => ({
      id: String(raw.id) as PushTargetId,
      kind: String(raw.kind) as PushKind,
      address: String(raw.endpoint ?? raw.token ?? ''),
    })),
    vapidKey,
    kinds: kinds.map(String) as PushKind[],
  };
}

/** The identity's push targets, the VAPID key and the kinds the server serves. */
export async function listPushTargets(session: ChatSession): Promise<PushTargetList> {
  return parseList(await session.request('pushTargetList', { id: requestId() }, ANSWERS));
}

/**
 * Registers a target (registering the same endpoint or token again replaces it). Rejects with
 * ChatError `too_many_targets` when the identity has the most it may have, `not_supported` when the
 * server has no credentials for that kind, `bad_request` for a malformed target.
 */
export async function addPushTarget(session: ChatSession, target: NewPushTarget): Promise<PushTargetList> {
  return parseList(await session.request('pushTargetAdd', { id: requestId(), target }, ANSWERS));
}

/** Removes a target by its id (from a list); removing one that is not there changes nothing. */
export async function removePushTarget(session: ChatSession, id: string): Promise<PushTargetList> {
  return parseList(await session.request('pushTargetRemove', { id: requestId(), target: id }, ANSWERS));
}
