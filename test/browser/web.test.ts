/**
 * The browser page end to end, in a real headless Chromium (Debian's `chromium` package driven by
 * playwright-core; no browser download): three people in three browser contexts (profiles) create
 * identities and chat: one thread per contact, unread counts and the tab badge, delivery states,
 * a notification while the tab is hidden, contacts named and verified by QR code, a picture and a
 * file sent end to end, history that survives a reload, "delete conversation", and a Safe backup
 * restored in a fresh context showing its contacts. Screenshots of each state are saved (see
 * SCREENSHOTS).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, launchChromium, openPanel, UI_TIMEOUT_MS } from '../support/browser.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';

/**
 * Every run saves its screenshots under .test-data/ (ignored by git); with UPDATE_SCREENSHOTS=1 it
 * refreshes the ones committed in docs/screenshots/ instead, so a plain test run leaves the tree clean.
 */
const SCREENSHOTS = join(
  import.meta.dirname,
  process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/screenshots' : '../../.test-data/screenshots',
);

let harness: TestRunner;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  harness = await startTestRunner();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

/**
 * Records each system notification the page shows (the real Notification API still runs: this
 * spy only remembers title and body, as a person would read them).
 */
const NOTIFICATION_SPY = `(() => {
  const Real = window.Notification;
  if (!Real) return;
  const seen = [];
  class Spy extends Real {
    constructor(title, options) {
      super(title, options);
      seen.push({ title, body: options && options.body });
    }
  }
  window.Notification = Spy;
  window.__notifications = seen;
})();`;

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(NOTIFICATION_SPY);
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(harness.runner.httpUrl);
  return page;
}

/** Opens the conversation with `id` through the "Write to ID" form (keyboard: Enter submits). */
async function writeTo(page: Page, id: string): Promise<void> {
  await page.getByLabel('Write to ID').fill(id.toLowerCase());
  await page.getByLabel('Write to ID').press('Enter');
  await page.locator('#thread-title', { hasText: id }).waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByLabel('Message', { exact: true }).press('Enter');
  await page.locator('#messages li.mine', { hasText: text }).waitFor();
}

/** The delivery state shown next to one of my messages. */
function stateOf(page: Page, text: string) {
  return page.locator('#messages li.mine', { hasText: text }).locator('.state');
}

function theirMessage(page: Page, text: string) {
  return page.locator('#messages li.theirs', { hasText: text });
}

/** The conversation list's entry for `id`. */
function entry(page: Page, id: string) {
  return page.locator(`#conversations button[data-peer="${id}"]`);
}

async function unreadOf(page: Page, id: string): Promise<string> {
  const badge = entry(page, id).locator('.unread');
  return (await badge.count()) === 0 ? '0' : ((await badge.textContent()) ?? '');
}

async function delivered(page: Page, text: string): Promise<void> {
  await expect.poll(() => stateOf(page, text).textContent(), { timeout: UI_TIMEOUT_MS }).toBe('Delivered');
}

/** Makes the tab hidden (or visible again) as a switch to another tab would. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (value ? 'hidden' : 'visible'),
    });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

function notifications(page: Page): Promise<Array<{ title: string; body: string }>> {
  return page.evaluate(() => (window as unknown as { __notifications: [] }).__notifications);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A picture the page can decode: a PNG screenshot of an element. */
function png(name: string, buffer: Buffer) {
  return { name, mimeType: 'image/png', buffer };
}

describe('the page as the runner serves it', () => {
  it('serves the page, its bundle and a config.json naming this runner, next to the API routes', async () => {
    const base = harness.runner.httpUrl;
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    const bundle = await fetch(new URL('app.js', base));
    expect(bundle.headers.get('content-type')).toContain('javascript');
    // Bundled for browsers: no Node built-ins left to import.
    expect(await bundle.text()).not.toMatch(/from\s*["']node:/);
    expect(await (await fetch(new URL('config.json', base))).json()).toEqual({
      httpUrl: harness.runner.httpUrl,
      wsUrl: harness.runner.wsUrl,
      safeUrl: harness.runner.safeUrl,
      serverPublicKey: harness.runner.serverPublicKey,
    });
    // Only GET and HEAD of the page's own paths; everything else is still the gateway's.
    expect((await fetch(base, { method: 'POST' })).status).toBe(404);
    expect((await fetch(new URL('app.js', base), { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(new URL('health', base))).status).toBe(200);
    expect((await fetch(new URL('safe/config', base))).status).toBe(200);
    expect((await fetch(new URL('directory/identities/ZZZZZZZZ', base))).status).toBe(404);
  });
});

describe('browser client (headless Chromium)', () => {
  it('keeps one thread per contact with unread counts, notifies when hidden, verifies contacts, sends a picture, keeps history over a reload, and restores contacts from a Safe backup', {
    timeout: 480_000,
  }, async () => {
    const aliceContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await aliceContext.grantPermissions(['notifications'], {
      origin: new URL(harness.runner.httpUrl).origin,
    });
    // Bob is on a phone-sized screen.
    const bobContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const carolContext = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    const alice = await open(aliceContext);
    let bob = await open(bobContext);
    const carol = await open(carolContext);
    const dialogs = (page: Page) => page.on('dialog', (dialog) => void dialog.accept());
    dialogs(alice);

    const aliceId = await createIdentity(alice);
    const bobId = await createIdentity(bob, 'bob passphrase');
    const carolId = await createIdentity(carol);
    expect(new Set([aliceId, bobId, carolId]).size).toBe(3);
    for (const id of [aliceId, bobId, carolId]) expect(id).toMatch(/^[0-9A-Z]{8}$/);

    // Bad input gets a clear message and opens nothing.
    await alice.getByLabel('Write to ID').fill('ABCD-123');
    await alice.getByLabel('Write to ID').press('Enter');
    await alice.getByRole('alert').filter({ hasText: 'An ID is 8 characters' }).waitFor();
    await alice.getByLabel('Write to ID').fill('ZZZZZZZZ');
    await alice.getByLabel('Write to ID').press('Enter');
    await alice
      .getByRole('alert')
      .filter({ hasText: 'ZZZZZZZZ: no active identity with this ID.' })
      .waitFor();
    expect(await alice.locator('#conversations li').count()).toBe(0);

    // Alice writes to Bob. Bob has not opened it: one unread, in the list and the tab title.
    await writeTo(alice, bobId);
    await send(alice, 'Hello Bob, end to end');
    await expect.poll(() => unreadOf(bob, aliceId), { timeout: UI_TIMEOUT_MS }).toBe('1');
    expect(await bob.title()).toBe('(1) Switchyard');
    expect(await entry(bob, aliceId).textContent()).toContain('Hello Bob, end to end');
    await shot(bob, 'phone-conversations');
    await entry(bob, aliceId).click();
    await theirMessage(bob, 'Hello Bob, end to end').waitFor();
    await expect.poll(() => bob.title()).toBe('Switchyard');
    expect(await unreadOf(bob, aliceId)).toBe('0');
    await delivered(alice, 'Hello Bob');
    await send(bob, 'Hi Alice!');
    await theirMessage(alice, 'Hi Alice!').waitFor();
    await delivered(bob, 'Hi Alice!');
    await shot(bob, 'phone-thread');

    // Carol writes to Alice while Alice reads Bob's thread: a second conversation, not in Bob's.
    await writeTo(carol, aliceId);
    await send(carol, 'Hi Alice, Carol here');
    await expect.poll(() => unreadOf(alice, carolId), { timeout: UI_TIMEOUT_MS }).toBe('1');
    expect(await alice.title()).toBe('(1) Switchyard');
    expect(await theirMessage(alice, 'Carol here').count()).toBe(0);
    expect(await alice.locator('#messages li .text').allTextContents()).toEqual([
      'Hello Bob, end to end',
      'Hi Alice!',
    ]);
    // The latest conversation first.
    expect(
      await alice
        .locator('#conversations button')
        .evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.peer)),
    ).toEqual([carolId, bobId]);

    // What the server saw of Alice's last message to Bob, and what stayed in her browser.
    await openPanel(alice, 'seen-panel');
    const server = await alice.locator('#seen-server').textContent();
    expect(server).toContain(bobId);
    expect(server).toMatch(/Encrypted box\d+ bytes/);
    expect(server).not.toContain('Hello Bob');
    expect(await alice.locator('#seen-device').textContent()).toContain('Hello Bob, end to end');
    await shot(alice, 'conversations-unread');

    // Notifications: off until Alice turns them on; then, with the tab hidden, one per message,
    // naming the sender only; with her second consent, the text too.
    await openPanel(alice, 'settings');
    await alice.getByLabel('Notify me of new messages while this tab is hidden').check();
    await expect
      .poll(() => alice.getByLabel('Show the message text in notifications').isEnabled())
      .toBe(true);
    await shot(alice, 'settings-notifications');
    await setHidden(alice, true);
    await send(carol, 'Are you there?');
    await expect
      .poll(() => notifications(alice), { timeout: UI_TIMEOUT_MS })
      .toEqual([{ title: `New message from ${carolId}`, body: 'Open Switchyard to read it.' }]);
    await alice.getByLabel('Show the message text in notifications').check();
    await send(carol, 'Second question');
    await expect.poll(async () => (await notifications(alice)).length, { timeout: UI_TIMEOUT_MS }).toBe(2);
    expect((await notifications(alice))[1]).toEqual({
      title: `New message from ${carolId}`,
      body: 'Second question',
    });
    expect(await alice.title()).toBe('(3) Switchyard');
    await setHidden(alice, false);
    // A message while visible, in another thread: counted, not notified.
    await send(carol, 'Third, while you look');
    await expect.poll(() => unreadOf(alice, carolId), { timeout: UI_TIMEOUT_MS }).toBe('4');
    expect(await notifications(alice)).toHaveLength(2);

    // Alice names Carol and checks her fingerprint; Carol's page shows the same one.
    await entry(alice, carolId).click();
    await theirMessage(alice, 'Third, while you look').waitFor();
    expect(await alice.title()).toBe('Switchyard');
    await alice.getByRole('button', { name: 'Contact' }).click();
    await alice.getByLabel('Name for this contact (only on this device and in your backup)').fill('Carol');
    await alice.getByRole('button', { name: 'Save name' }).click();
    await alice.locator('#thread-title', { hasText: `Carol (${carolId})` }).waitFor();
    await expect.poll(() => entry(alice, carolId).locator('.name').textContent()).toBe(`Carol (${carolId})`);
    await openPanel(carol, 'me-panel');
    expect(await alice.locator('#contact-fingerprint').textContent()).toBe(
      await carol.locator('#my-fingerprint').textContent(),
    );
    expect(await alice.locator('#thread-level').textContent()).toContain('not verified');
    await alice.getByRole('button', { name: 'The fingerprints match: mark as verified' }).click();
    await alice.locator('#thread-level', { hasText: '●●● Verified in person' }).waitFor();
    await shot(alice, 'contact-verified');

    // Alice verifies Bob by his QR code (read from a picture of it: no camera in a headless
    // browser). A code with another key for his ID is refused first.
    await openPanel(bob, 'settings');
    await openPanel(bob, 'me-panel');
    const bobCode = (await bob.locator('#my-qr-text').textContent())!;
    expect(bobCode).toMatch(new RegExp(`^3mid:${bobId},[0-9a-f]{64}$`));
    await openPanel(alice, 'contacts-panel');
    const carolKey = (await carol.locator('#my-qr-text').textContent())!.split(',')[1]!;
    await alice.getByLabel('Code text').fill(`3mid:${bobId},${carolKey}`);
    await alice.getByRole('button', { name: 'Verify' }).click();
    await alice
      .getByRole('alert')
      .filter({ hasText: "The code's key is not the key the directory has" })
      .waitFor();
    const qrPicture = await bob.locator('#my-qr svg').screenshot();
    await alice.locator('#scan-picture').setInputFiles(png('bob-qr.png', qrPicture));
    await alice.locator('#thread-title', { hasText: bobId }).waitFor();
    await alice.locator('#thread-level', { hasText: '●●● Verified in person' }).waitFor();
    await alice.getByRole('button', { name: 'Contact' }).click();
    await alice.getByLabel('Name for this contact (only on this device and in your backup)').fill('Bob');
    await alice.getByRole('button', { name: 'Save name' }).click();
    await alice.locator('#thread-title', { hasText: `Bob (${bobId})` }).waitFor();
    expect(await alice.locator('#contacts li').allTextContents()).toEqual([
      `Bob (${bobId}) ●●●`,
      `Carol (${carolId}) ●●●`,
    ]);

    // A picture and a file, end to end: uploaded with progress, shown inline on Bob's phone.
    await openPanel(alice, 'me-panel');
    const picture = await alice.locator('#my-qr svg').screenshot();
    await alice.locator('#attach').setInputFiles(png('my code.png', picture));
    const sentPicture = alice.locator('#messages li.mine', { hasText: 'my code.png' });
    await sentPicture.waitFor();
    await delivered(alice, 'my code.png');
    const progress = await sentPicture.locator('progress').evaluate((node) => {
      const bar = node as HTMLProgressElement;
      return { value: bar.value, max: bar.max };
    });
    // The upload reported its progress up to the whole upload: at least the encrypted blob (the
    // file + 16 bytes per chunk) in the storage's form.
    expect(progress.max).toBeGreaterThan(picture.length + 16);
    expect(progress.value).toBe(progress.max);
    const shown = theirMessage(bob, 'my code.png').locator('img');
    await shown.waitFor();
    await expect
      .poll(() => shown.evaluate((img) => (img as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(0);
    expect(await shown.getAttribute('alt')).toBe('Picture: my code.png');
    await alice.locator('#attach').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('plain notes, end to end'),
    });
    const link = theirMessage(bob, 'notes.txt').locator('a');
    await link.waitFor();
    expect(await link.getAttribute('download')).toBe('notes.txt');
    // Saving it hands the browser the verified plaintext under the sender's file name.
    const [download] = await Promise.all([bob.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('notes.txt');
    expect(readFileSync(await download.path(), 'utf8')).toBe('plain notes, end to end');
    await shot(bob, 'phone-picture');

    // Bob goes away; Alice's message is stored, not delivered. Alice reloads: her history is back,
    // from her device only, and the receipt still finds the message once Bob returns.
    await bob.close();
    await send(alice, 'While you were away');
    await expect
      .poll(() => stateOf(alice, 'While you were away').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Stored on server');
    await send(carol, 'Unread before the reload');
    await expect.poll(() => unreadOf(alice, carolId), { timeout: UI_TIMEOUT_MS }).toBe('1');
    await alice.reload();
    await alice.getByText('Online', { exact: true }).waitFor();
    await expect
      .poll(() => alice.locator('#conversations .name').allTextContents(), { timeout: UI_TIMEOUT_MS })
      .toEqual([`Carol (${carolId})`, `Bob (${bobId})`]);
    expect(await unreadOf(alice, carolId)).toBe('1');
    expect(await alice.title()).toBe('(1) Switchyard');
    await entry(alice, bobId).click();
    expect(await stateOf(alice, 'Hello Bob, end to end').textContent()).toBe('Delivered');
    expect(await stateOf(alice, 'While you were away').textContent()).toBe('Stored on server');
    const keptPicture = alice.locator('#messages li.mine', { hasText: 'my code.png' }).locator('img');
    await expect
      .poll(() => keptPicture.evaluate((img) => (img as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(0);
    // The device store holds ciphertext under opaque names: no ID or text in IndexedDB in the clear.
    const rawStore = await alice.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const request = indexedDB.open('switchyard-device');
          request.onsuccess = () => {
            const all = request.result.transaction('records').objectStore('records').getAll();
            const keys = request.result.transaction('records').objectStore('records').getAllKeys();
            all.onsuccess = () =>
              (keys.onsuccess = () =>
                resolve(
                  JSON.stringify(keys.result) +
                    all.result.map((r: { box: Uint8Array }) => new TextDecoder().decode(r.box)).join(''),
                ));
          };
        }),
    );
    expect(rawStore.length).toBeGreaterThan(100);
    for (const secret of [bobId, carolId, 'Hello Bob', 'While you were away'])
      expect(rawStore).not.toContain(secret);

    bob = await open(bobContext);
    await bob.getByLabel('Passphrase', { exact: true }).fill('wrong passphrase');
    await bob.getByRole('button', { name: 'Unlock' }).click();
    await bob.getByText('Wrong passphrase for the stored identity.').waitFor();
    await bob.getByLabel('Passphrase', { exact: true }).fill('bob passphrase');
    await bob.getByRole('button', { name: 'Unlock' }).click();
    await bob.getByText('Online', { exact: true }).waitFor();
    await expect.poll(() => unreadOf(bob, aliceId), { timeout: UI_TIMEOUT_MS }).toBe('1');
    await entry(bob, aliceId).click();
    // Bob's history came back from his device, the new message from the server. The thread renders
    // once the page has read it from IndexedDB: wait for it (it once came up empty when read at once).
    await expect
      .poll(() => bob.locator('#messages li .text').allTextContents(), { timeout: UI_TIMEOUT_MS })
      .toEqual(['Hello Bob, end to end', 'Hi Alice!', 'While you were away']);
    await delivered(alice, 'While you were away');
    await shot(alice, 'history-after-reload');

    // "Delete conversation" removes Carol's thread from this device, also after a reload; she
    // stays a contact.
    await entry(alice, carolId).click();
    await alice.getByRole('button', { name: 'Contact' }).click();
    await alice.getByRole('button', { name: 'Delete conversation' }).click();
    await alice.getByText('Conversation deleted from this device.').waitFor();
    expect(await entry(alice, carolId).count()).toBe(0);
    await alice.reload();
    await alice.getByText('Online', { exact: true }).waitFor();
    expect(await alice.locator('#conversations button').count()).toBe(1);
    expect(await entry(alice, carolId).count()).toBe(0);
    expect(await alice.locator('#contacts li').allTextContents()).toContain(`Carol (${carolId}) ●●●`);

    // The "Go offline" button closes the socket too; back online, a message sent meanwhile arrives.
    await bob.getByRole('button', { name: 'Go offline' }).click();
    await bob.getByText('Offline', { exact: true }).waitFor();
    await entry(alice, bobId).click();
    await send(alice, 'While you were offline');
    await bob.getByRole('button', { name: 'Go online' }).click();
    await theirMessage(bob, 'While you were offline').waitFor();
    await delivered(alice, 'While you were offline');

    // Alice backs up to the Safe (the confirmation next to the button); a fresh browser restores
    // her, with her contacts, their names and levels, and no conversations (those stay on devices).
    await openPanel(alice, 'settings');
    await alice.getByLabel('Safe password (8 characters or more)').fill('correct horse battery');
    await alice.getByRole('button', { name: 'Back up' }).click();
    await alice.locator('#backup-status', { hasText: /^Backup stored: \d+ encrypted bytes/ }).waitFor();

    const freshContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const restored = await open(freshContext);
    await restored.getByText('Restore from a Threema Safe backup').click();
    await restored.getByLabel('Your ID').fill(aliceId);
    await restored.getByLabel('Safe password', { exact: true }).fill('not the password');
    await restored.getByRole('button', { name: 'Restore' }).click();
    // A wrong password names another backup: there is none.
    await restored
      .getByRole('alert')
      .filter({ hasText: /backup/i })
      .waitFor();
    expect(await restored.locator('#my-id').textContent()).toBe('');
    await restored.getByLabel('Safe password', { exact: true }).fill('correct horse battery');
    await restored.getByRole('button', { name: 'Restore' }).click();
    await restored.getByText('Online', { exact: true }).waitFor();
    expect(await restored.locator('#my-id').textContent()).toBe(aliceId);
    await restored.getByText('Restored from the backup, with 2 contacts.').waitFor();
    await openPanel(restored, 'contacts-panel');
    expect(await restored.locator('#contacts li').allTextContents()).toEqual([
      `Bob (${bobId}) ●●●`,
      `Carol (${carolId}) ●●●`,
    ]);
    expect(await restored.locator('#conversations li').count()).toBe(0);
    await shot(restored, 'safe-restored-contacts');
    await restored.locator('#contacts button', { hasText: 'Bob' }).click();
    await send(restored, 'Restored from the Safe');
    await theirMessage(bob, 'Restored from the Safe').waitFor();
    await delivered(restored, 'Restored from the Safe');

    expect(pageErrors).toEqual([]);
    // Metadata restraint: nothing the pages did put an identity into the server's logs.
    const logs = harness.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const id of [aliceId, bobId, carolId]) expect(logs).not.toContain(id);
    await Promise.all([aliceContext.close(), bobContext.close(), carolContext.close(), freshContext.close()]);
  });
});
