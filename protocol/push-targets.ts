/**
 * Push targets and wake-ups (docs/PROTOCOL.md, "Push wake-ups"): where the server sends a wake-up
 * when a message waits for an identity that has no live session. A wake-up never carries content:
 * no sender, no message id, no size. The owner registers, removes and lists its targets with three
 * session frames on the chat socket, each answered by its request `id`:
 *
 *   pushTargetAdd    {id, target: {kind: "webpush"|"unifiedpush", endpoint, p256dh, auth}}
 *                    {id, target: {kind: "fcm"|"apns", token}}
 *   pushTargetRemove {id, target: <target id, 16 lowercase hex>}
 *   pushTargetList   {id}
 *     → pushTargets {id, targets: [{id, kind, endpoint | token}], vapidKey, kinds}
 *     → pushTargetError {id, code}
 *
 * `p256dh` (65 bytes, an uncompressed P-256 point) and `auth` (16 bytes) are base64url without
 * padding, exactly as a browser's `PushSubscription.toJSON().keys` gives them (RFC 8291).
 */
import { addressKind, mayReach } from './addresses.ts';
import { fromBase64 } from './bytes.ts';
import { SwitchyardError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { requestIdOf } from './media.ts';

export const PUSH_TARGET_ACTIONS = ['pushTargetAdd', 'pushTargetRemove', 'pushTargetList'] as const;
export type PushTargetAction = (typeof PUSH_TARGET_ACTIONS)[number];
export const PUSH_TARGETS_REPLY = 'pushTargets';
export const PUSH_TARGETS_ERROR = 'pushTargetError';

/** The kinds of push target: Web Push and UnifiedPush share one wire format (RFC 8030/8291/8292). */
export const PUSH_KINDS = ['webpush', 'unifiedpush', 'fcm', 'apns'] as const;
export type PushKind = (typeof PUSH_KINDS)[number];

/** An uncompressed P-256 public key (0x04 ‖ x ‖ y) and a Web Push auth secret, in bytes. */
export const P256_POINT_BYTES = 65;
export const PUSH_AUTH_BYTES = 16;

/** A target's id: 16 lowercase hex digits, derived by the server from the kind and the address. */
export type PushTargetId = string & { readonly __brand: 'PushTargetId' };
const TARGET_ID = /^[0-9a-f]{16}$/;

export function ensurePushTargetId(value: unknown): PushTargetId {
  if (typeof value !== 'string' || !TARGET_ID.test(value)) throw new SwitchyardError('bad_request');
  return value as PushTargetId;
}

/** A target as registered: an encrypted Web Push subscription, or a provider's device token. */
export type PushTarget =
  | {
      readonly kind: 'webpush' | 'unifiedpush';
      readonly endpoint: string;
      readonly p256dh: Uint8Array;
      readonly auth: Uint8Array;
    }
  | { readonly kind: 'fcm' | 'apns'; readonly token: string };

/** A target as the owner sees it in a list (the keys stay on the server). */
export interface PushTargetView {
  readonly id: PushTargetId;
  readonly kind: PushKind;
  /** The endpoint URL (webpush, unifiedpush) or the token (fcm, apns). */
  readonly address: string;
}

/** What a `pushTargets` answer carries besides the list. */
export interface PushTargetsInfo {
  /** The server's VAPID public key (base64url, 65 bytes): a browser subscribes with it. */
  readonly vapidKey: string;
  /** The kinds this deployment sends to (webpush and unifiedpush always; fcm and apns when configured). */
  readonly kinds: readonly PushKind[];
}

/** base64url (RFC 4648 §5), padding optional, of exactly `length` bytes. */
export function fromB64Url(value: unknown, length: number): Uint8Array {
  if (typeof value !== 'string' || value.length > Math.ceil((length * 4) / 3) + 2)
    throw new SwitchyardError('bad_request');
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new SwitchyardError('bad_request');
  const plain = value.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const bytes = fromBase64(plain + '='.repeat((4 - (plain.length % 4)) % 4));
  if (!bytes || bytes.length !== length) throw new SwitchyardError('bad_request');
  return bytes;
}

/** base64url without padding. */
export function toB64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A push endpoint: an absolute `https:` URL of at most LIMITS.pushEndpointBytes, without user info
 * or fragment, whose host is a DNS name or a public IP address (addresses.ts): the server POSTs to
 * it, so it must not point into the server's own network. Loopback hosts (127.0.0.0/8, `[::1]`,
 * `localhost`), with `http:` too, only where the server allows it (the local runner, whose tests run
 * a push service on 127.0.0.1).
 */
export function ensurePushEndpoint(value: unknown, allowLoopback: boolean): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.pushEndpointBytes)
    throw new SwitchyardError('bad_request');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SwitchyardError('bad_request');
  }
  const host = url.hostname;
  const kind =
    addressKind(host) ?? (host === 'localhost' || host.endsWith('.localhost') ? 'loopback' : 'name');
  // A name is checked where it is resolved, when a wake-up is sent (guarded-post.ts).
  const reachable = kind === 'name' || mayReach(kind, allowLoopback);
  const scheme = url.protocol === 'https:' || (url.protocol === 'http:' && kind === 'loopback');
  if (!reachable || !scheme || url.username || url.password || url.hash || url.href !== value)
    throw new SwitchyardError('bad_request');
  return value;
}

const FCM_TOKEN = /^[A-Za-z0-9_:.-]+$/;
const APNS_TOKEN = /^[0-9a-f]{64,200}$/;

/** Parses `target` of a `pushTargetAdd` frame: size first, then shape. */
export function parsePushTarget(value: unknown, allowLoopback: boolean): PushTarget {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SwitchyardError('bad_request');
  const fields = value as Record<string, unknown>;
  switch (fields.kind) {
    case 'webpush':
    case 'unifiedpush':
      return {
        kind: fields.kind,
        endpoint: ensurePushEndpoint(fields.endpoint, allowLoopback),
        p256dh: fromB64Url(fields.p256dh, P256_POINT_BYTES),
        auth: fromB64Url(fields.auth, PUSH_AUTH_BYTES),
      };
    case 'fcm':
    case 'apns': {
      const token = fields.token;
      if (typeof token !== 'string' || token.length === 0 || token.length > LIMITS.pushTokenChars)
        throw new SwitchyardError('bad_request');
      if (!(fields.kind === 'fcm' ? FCM_TOKEN : APNS_TOKEN).test(token))
        throw new SwitchyardError('bad_request');
      return { kind: fields.kind, token };
    }
    default:
      throw new SwitchyardError('bad_request');
  }
}

/** A push target request: its `id` (echoed) and, per action, what it names. */
export type PushTargetRequest =
  | { readonly action: 'pushTargetAdd'; readonly id: string; readonly target: PushTarget }
  | { readonly action: 'pushTargetRemove'; readonly id: string; readonly target: PushTargetId }
  | { readonly action: 'pushTargetList'; readonly id: string };

export function parsePushTargetRequest(
  action: PushTargetAction,
  payload: Readonly<Record<string, unknown>>,
  allowLoopback: boolean,
): PushTargetRequest {
  const id = requestIdOf(payload);
  switch (action) {
    case 'pushTargetAdd':
      return { action, id, target: parsePushTarget(payload.target, allowLoopback) };
    case 'pushTargetRemove':
      return { action, id, target: ensurePushTargetId(payload.target) };
    case 'pushTargetList':
      return { action, id };
  }
}

/** The address a target is known by: its endpoint or its token. */
export function pushTargetAddress(target: PushTarget): string {
  return 'endpoint' in target ? target.endpoint : target.token;
}

/** A list entry on the wire: `{id, kind, endpoint}` or `{id, kind, token}`. */
export function encodePushTargetView(view: PushTargetView): Record<string, string> {
  const webPush = view.kind === 'webpush' || view.kind === 'unifiedpush';
  return { id: view.id, kind: view.kind, [webPush ? 'endpoint' : 'token']: view.address };
}

/**
 * The one wake-up payload: the plaintext of every encrypted Web Push message and the FCM data
 * message, byte for byte the same for every recipient and every message. A service worker or app
 * that gets it knows only "something waits": it connects and pulls.
 */
export const WAKE_PAYLOAD = '{"wake":1}';
