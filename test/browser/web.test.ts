/**
 * The browser page end to end, in a real headless Chromium (Debian's `chromium` package driven by
 * playwright-core; no browser download): two people in two browser contexts create identities,
 * look each other up and chat with delivery state; one goes away and gets the queue on return; a
 * Safe backup is restored in a fresh context. Screenshots of the main states are saved (see SCREENSHOTS).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRunner, type TestRunner } from '../support/runner.ts';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/**
 * Every run saves its screenshots under .test-data/ (ignored by git); with UPDATE_SCREENSHOTS=1 it
 * refreshes the ones committed in docs/screenshots/ instead, so a plain test run leaves the tree clean.
 */
const SCREENSHOTS = join(
  import.meta.dirname,
  process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/screenshots' : '../../.test-data/screenshots',
);
/** Playwright waits (auto-waiting locators) for up to this long; scrypt in pure JS takes a few seconds. */
const UI_TIMEOUT_MS = 60_000;

let harness: TestRunner;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install Debian's package: apt-get install -y chromium ` +
        '(or point CHROMIUM_PATH at a Chromium binary). .ci/run installs it when missing.',
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  harness = await startTestRunner();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(harness.runner.httpUrl);
  return page;
}

async function createIdentity(page: Page, passphrase = ''): Promise<string> {
  await expect.poll(() => page.getByRole('button', { name: 'Create identity' }).isVisible()).toBe(true);
  if (passphrase)
    await page.getByLabel('Passphrase to lock the key on this device (optional)').fill(passphrase);
  await page.getByRole('button', { name: 'Create identity' }).click();
  await page.getByText('Online', { exact: true }).waitFor();
  return (await page.locator('#my-id').textContent())!;
}

async function lookUp(page: Page, id: string): Promise<void> {
  await page.getByLabel('Recipient ID').fill(id.toLowerCase());
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.getByText(`${id} is active.`).waitFor();
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  // Keyboard only: Enter submits the form.
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

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
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
  it('chats with delivery state, delivers the queue after an absence, and restores a Safe backup in a fresh browser', {
    timeout: 240_000,
  }, async () => {
    const aliceContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    // Bob is on a phone-sized screen.
    const bobContext = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const alice = await open(aliceContext);
    let bob = await open(bobContext);

    const aliceId = await createIdentity(alice);
    const bobId = await createIdentity(bob, 'bob passphrase');
    expect(aliceId).toMatch(/^[0-9A-Z]{8}$/);
    expect(bobId).toMatch(/^[0-9A-Z]{8}$/);
    expect(bobId).not.toBe(aliceId);

    // Bad input gets a clear message and sends nothing.
    await alice.getByLabel('Recipient ID').fill('ABCD-123');
    await alice.getByRole('button', { name: 'Look up' }).click();
    await alice.getByRole('alert').filter({ hasText: 'An ID is 8 characters' }).waitFor();
    await alice.getByLabel('Recipient ID').fill('ZZZZZZZZ');
    await alice.getByRole('button', { name: 'Look up' }).click();
    await alice.getByText('ZZZZZZZZ: no active identity with this ID.').waitFor();
    await alice.getByLabel('Message', { exact: true }).fill('to nobody');
    await alice.getByLabel('Message', { exact: true }).press('Enter');
    await alice.getByRole('alert').filter({ hasText: 'That recipient is unknown' }).waitFor();
    expect(await alice.locator('#messages li').count()).toBe(0);

    // Both online: sent → stored on server → delivered (Bob's device sent a receipt).
    await lookUp(alice, bobId);
    await send(alice, 'Hello Bob, end to end');
    await theirMessage(bob, 'Hello Bob, end to end').waitFor();
    await expect
      .poll(() => stateOf(alice, 'Hello Bob').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Delivered');
    expect(await theirMessage(bob, 'Hello Bob').textContent()).toContain(`from ${aliceId}`);
    // Bob replies to the sender the page filled in.
    expect(await bob.getByLabel('Recipient ID').inputValue()).toBe(aliceId);
    await send(bob, 'Hi Alice!');
    await theirMessage(alice, 'Hi Alice!').waitFor();
    await expect
      .poll(() => stateOf(bob, 'Hi Alice!').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Delivered');

    // What the server saw of Alice's last message, and what stayed in her browser.
    const server = await alice.locator('#seen-server').textContent();
    expect(server).toContain(bobId);
    expect(server).toMatch(/Encrypted box\d+ bytes/);
    expect(server).not.toContain('Hello Bob');
    expect(await alice.locator('#seen-device').textContent()).toContain('Hello Bob, end to end');
    await shot(alice, 'chat-delivered');
    await shot(bob, 'chat-phone');

    // Bob goes away (his page closes: no socket). Alice's messages are stored, not delivered.
    await bob.close();
    // One after the other, as a person types: the server orders a mailbox by when it stored each
    // message, and two sends in flight at once may be stored in either order.
    for (const text of ['Are you there?', 'Second while you were away']) {
      await send(alice, text);
      await expect
        .poll(() => stateOf(alice, text).textContent(), { timeout: UI_TIMEOUT_MS })
        .toBe('Stored on server');
    }
    await shot(alice, 'chat-queued');

    // Bob comes back: his key is sealed in IndexedDB, so he unlocks it and the queue arrives.
    bob = await open(bobContext);
    await bob.getByLabel('Passphrase', { exact: true }).fill('wrong passphrase');
    await bob.getByRole('button', { name: 'Unlock' }).click();
    await bob.getByText('Wrong passphrase for the stored identity.').waitFor();
    await bob.getByLabel('Passphrase', { exact: true }).fill('bob passphrase');
    await bob.getByRole('button', { name: 'Unlock' }).click();
    await theirMessage(bob, 'Are you there?').waitFor();
    await theirMessage(bob, 'Second while you were away').waitFor();
    expect(await bob.locator('#messages li.theirs .text').allTextContents()).toEqual([
      'Are you there?',
      'Second while you were away',
    ]);
    expect(await bob.locator('#my-id').textContent()).toBe(bobId);
    for (const text of ['Are you there?', 'Second while you were away'])
      await expect
        .poll(() => stateOf(alice, text).textContent(), { timeout: UI_TIMEOUT_MS })
        .toBe('Delivered');
    await shot(bob, 'queue-received-phone');

    // The "Go offline" button closes the socket too; back online, a message sent meanwhile arrives.
    await bob.getByRole('button', { name: 'Go offline' }).click();
    await bob.getByText('Offline', { exact: true }).waitFor();
    await send(alice, 'While you were offline');
    await expect
      .poll(() => stateOf(alice, 'While you were offline').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Stored on server');
    await bob.getByRole('button', { name: 'Go online' }).click();
    await theirMessage(bob, 'While you were offline').waitFor();
    await expect
      .poll(() => stateOf(alice, 'While you were offline').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Delivered');

    // Alice backs up to the Safe; a fresh browser (no IndexedDB) restores her from it.
    await alice.getByLabel('Safe password (8 characters or more)').fill('correct horse battery');
    await alice.getByRole('button', { name: 'Back up' }).click();
    await alice.getByText(/^Backup stored: \d+ encrypted bytes/).waitFor();

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
    // Bob is in the restored contacts (no lookup needed), and Bob gets the message from Alice's ID.
    await restored.getByLabel('Recipient ID').fill(bobId);
    await send(restored, 'Restored from the Safe');
    const fromRestored = theirMessage(bob, 'Restored from the Safe');
    await fromRestored.waitFor();
    expect(await fromRestored.textContent()).toContain(`from ${aliceId}`);
    await expect
      .poll(() => stateOf(restored, 'Restored from the Safe').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Delivered');
    await shot(restored, 'safe-restored');

    expect(pageErrors).toEqual([]);
    // Metadata restraint: nothing the pages did put an identity into the server's logs.
    const logs = harness.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const id of [aliceId, bobId]) expect(logs).not.toContain(id);
    await Promise.all([aliceContext.close(), bobContext.close(), freshContext.close()]);
  });
});
