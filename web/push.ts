/**
 * Browser push wake-ups (docs/PROTOCOL.md, "Push wake-ups"): registers the service worker
 * (web/sw.ts, served as `sw.js` next to the page), subscribes with the server's VAPID key where the
 * browser offers Web Push, and registers the subscription as a `webpush` target over the logged-in
 * session. The server then wakes this browser while messages wait and the page is closed; the
 * service worker shows "New message" and nothing else.
 *
 * Exports for the page: `enablePush(session)` (call from a click: browsers ask for notification
 * permission only after a user gesture), `disablePush(session)`, `pushSupported()`, and
 * `pushSubscribed()` (the state its toggle in Settings → Notifications shows).
 */
import type { ChatSession } from '../client/chat/session.ts';
import { addPushTarget, listPushTargets, removePushTarget } from '../client/push/client.ts';

export type PushStatus = 'enabled' | 'disabled' | 'unsupported' | 'denied';

/** The service worker script, relative to the page (built by web/build.ts). */
export const SERVICE_WORKER_URL = 'sw.js';

/** Whether this browser offers Web Push to this page (a secure context, service workers, PushManager). */
export function pushSupported(): boolean {
  return (
    typeof window !== 'undefined' &&
    window.isSecureContext &&
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window
  );
}

function fromB64Url(text: string): Uint8Array<ArrayBuffer> {
  const plain = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(plain + '='.repeat((4 - (plain.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/**
 * Turns wake-ups on for this browser: asks for permission, subscribes (or reuses the subscription)
 * and registers it with the server. Resolves with what came of it; rejects with the SDK's ChatError
 * when the server refuses (e.g. `too_many_targets`).
 */
export async function enablePush(session: ChatSession): Promise<PushStatus> {
  if (!pushSupported()) return 'unsupported';
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const registration = await navigator.serviceWorker.register(SERVICE_WORKER_URL);
  const { vapidKey } = await listPushTargets(session);
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: fromB64Url(vapidKey),
    }));
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) return 'unsupported';
  await addPushTarget(session, { kind: 'webpush', endpoint, p256dh: keys.p256dh, auth: keys.auth });
  return 'enabled';
}

/** Whether this browser holds a push subscription made by this page (the toggle's state). */
export async function pushSubscribed(): Promise<boolean> {
  if (!pushSupported()) return false;
  const registration = await navigator.serviceWorker.getRegistration(SERVICE_WORKER_URL);
  return (await registration?.pushManager.getSubscription()) != null;
}

/** Turns wake-ups off for this browser: removes its target on the server and unsubscribes. */
export async function disablePush(session: ChatSession): Promise<PushStatus> {
  if (!pushSupported()) return 'unsupported';
  const registration = await navigator.serviceWorker.getRegistration(SERVICE_WORKER_URL);
  const subscription = await registration?.pushManager.getSubscription();
  if (subscription) {
    const { targets } = await listPushTargets(session);
    const mine = targets.find((target) => target.address === subscription.endpoint);
    if (mine) await removePushTarget(session, mine.id);
    await subscription.unsubscribe();
  }
  return 'disabled';
}
