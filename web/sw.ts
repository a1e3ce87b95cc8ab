/**
 * The page's service worker (served as `sw.js`): on a push, one notification titled "New message"
 * with no body. It never reads the push's data: a wake-up carries nothing but "something waits"
 * (docs/PROTOCOL.md, "Push wake-ups"), and showing a notification is what browsers require of a
 * push with `userVisibleOnly`. A click focuses an open page or opens it; the page then connects
 * and pulls.
 */

/** The parts of the service worker global this file uses (the project compiles against DOM, not WebWorker). */
interface WorkerScope {
  readonly registration: {
    showNotification(title: string, options?: Record<string, unknown>): Promise<void>;
  };
  readonly clients: {
    matchAll(options: {
      type: 'window';
      includeUncontrolled: boolean;
    }): Promise<ReadonlyArray<{ focus(): Promise<unknown> }>>;
    openWindow(url: string): Promise<unknown>;
  };
  addEventListener(type: 'push' | 'notificationclick', listener: (event: WorkerEvent) => void): void;
}
interface WorkerEvent {
  waitUntil(promise: Promise<unknown>): void;
  readonly notification?: { close(): void };
}

/** The notification every wake-up shows: the same words, no content, one at a time (`tag`). */
const NOTIFICATION_TITLE = 'New message';

const worker = self as unknown as WorkerScope;

worker.addEventListener('push', (event) => {
  event.waitUntil(worker.registration.showNotification(NOTIFICATION_TITLE, { tag: 'wake' }));
});

worker.addEventListener('notificationclick', (event) => {
  event.notification?.close();
  event.waitUntil(
    worker.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((pages) => {
      const [page] = pages;
      return page ? page.focus() : worker.clients.openWindow('./');
    }),
  );
});
