import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatSession } from '../../client/chat/session.ts';
import { WAKE_PAYLOAD } from '../../protocol/push-targets.ts';
import { createIdentity, launchChromium, openPanel, UI_TIMEOUT_MS } from '../support/browser.ts';
import { newSession, registerIdentity } from '../support/chat.ts';
import { pushItem, type Subscriber, startWebPushService } from '../support/push-services.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

const WAIT_MS = 30_000;

let harness: TestRunner;
let browser: Browser;
let webPush: Awaited<ReturnType<typeof startWebPushService>>;
let sender: ChatSession | undefined;
const pageErrors: string[] = [];

beforeAll(async () => {
  webPush = await startWebPushService();
  harness = await startTestRunner({ push: { debounceSeconds: 1, vapidSubject: 'mailto:ops@example.org' } });
  browser = await launchChromium();
});

afterAll(async () => {
  await sender?.close();
  await browser?.close();
  await harness?.stop();
  await webPush?.stop();
});

/**
 * Stands in for the push service's side of `PushManager.subscribe` (and `getSubscription`,
 * `unsubscribe`): the subscription the stand-in service made, and the key the page passed.
 */
function fakeSubscription(subscriber: { endpoint: string; p256dh: string; auth: string }): string {
  return `(() => {
    const data = ${JSON.stringify({ endpoint: subscriber.endpoint, keys: { p256dh: subscriber.p256dh, auth: subscriber.auth } })};
    // Kept over reloads, as the browser keeps a subscription.
    const state = JSON.parse(localStorage.getItem('test-push') || '{"subscribed":false,"key":null}');
    const save = () => localStorage.setItem('test-push', JSON.stringify(state));
    window.__push = state;
    if (!window.PushManager) return;
    const subscription = {
      endpoint: data.endpoint,
      toJSON: () => data,
      unsubscribe: async () => { state.subscribed = false; save(); return true; },
    };
    PushManager.prototype.subscribe = async function (options) {
      state.key = Array.from(new Uint8Array(options.applicationServerKey));
      state.subscribed = true;
      save();
      return subscription;
    };
    PushManager.prototype.getSubscription = async function () {
      return state.subscribed ? subscription : null;
    };
  })();`;
}

async function open(context: BrowserContext, subscriber: Subscriber): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(fakeSubscription(subscriber));
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(harness.runner.httpUrl);
  return page;
}

describe('Web Push in the browser page (headless Chromium)', () => {
  it('subscribes from Settings, is woken while closed, shows a content-free notice, and turns off', {
    timeout: 240_000,
  }, async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: new URL(harness.runner.httpUrl).origin });
    const subscriber = webPush.subscribe();
    let page = await open(context, subscriber);
    const id = await createIdentity(page);
    await openPanel(page, 'settings');
    const toggle = page.getByLabel('Wake this browser while the page is closed');
    expect(await toggle.isEnabled()).toBe(true);
    expect(await toggle.isChecked()).toBe(false);

    await toggle.check();
    await page.locator('#push-help', { hasText: 'On: the server wakes this browser' }).waitFor();
    expect(await toggle.isChecked()).toBe(true);
    // The page's real service worker is registered, and it subscribed with the server's VAPID key.
    const worker = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration('sw.js');
      return (registration?.active ?? registration?.installing ?? registration?.waiting)?.scriptURL;
    });
    expect(worker).toBe(new URL('sw.js', harness.runner.httpUrl).href);
    const key = await page.evaluate(() => (window as unknown as { __push: { key: number[] } }).__push.key);
    expect(key).toHaveLength(65);
    expect(key[0]).toBe(4);
    const item = await pushItem(harness, id);
    expect(JSON.stringify(item)).toContain(subscriber.endpoint);

    // The page is closed; a message to it wakes the subscription, with nothing in it but "wake".
    await page.close();
    const bob = await registerIdentity(harness.runner);
    sender = newSession(harness.runner, bob).session;
    await sender.connect();
    await sender.send(id, new TextEncoder().encode('are you there?'));
    await eventually(() => webPush.to(subscriber).length >= 1, WAIT_MS);
    const [delivery] = webPush.to(subscriber);
    expect(delivery?.problem).toBeUndefined();
    expect(delivery?.plaintext).toBe(WAKE_PAYLOAD);
    expect(`${JSON.stringify(delivery?.headers)}${delivery?.plaintext}`).not.toContain(id);

    // What the service worker does with a push: one "New message" notice, no body, whatever the data.
    page = await open(context, subscriber);
    await page.getByText('Online', { exact: true }).waitFor();
    const registrations: Array<{ registrationId: string; scopeURL: string }> = [];
    const inspector = await context.newCDPSession(page);
    inspector.on('ServiceWorker.workerRegistrationUpdated', (event) =>
      registrations.push(...(event.registrations as typeof registrations)),
    );
    await inspector.send('ServiceWorker.enable');
    await expect.poll(() => registrations.length, { timeout: UI_TIMEOUT_MS }).toBeGreaterThan(0);
    await inspector.send('ServiceWorker.deliverPushMessage', {
      origin: new URL(harness.runner.httpUrl).origin,
      registrationId: registrations[0]!.registrationId,
      data: 'from bob: are you there?',
    });
    const shown = () =>
      page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration('sw.js');
        const notes = (await registration?.getNotifications()) ?? [];
        return notes.map((note) => ({ title: note.title, body: note.body }));
      });
    await expect.poll(shown, { timeout: UI_TIMEOUT_MS }).toEqual([{ title: 'New message', body: '' }]);

    // After the reload the toggle shows the subscription; turning it off removes the target.
    await openPanel(page, 'settings');
    const again = page.getByLabel('Wake this browser while the page is closed');
    await expect.poll(() => again.isChecked()).toBe(true);
    await again.uncheck();
    await page.locator('#push-help', { hasText: 'Off: nothing wakes this browser' }).waitFor();
    await expect
      .poll(async () => JSON.stringify((await pushItem(harness, id)) ?? {}))
      .not.toContain(subscriber.endpoint);
    expect(
      await page.evaluate(() => (window as unknown as { __push: { subscribed: boolean } }).__push.subscribed),
    ).toBe(false);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
