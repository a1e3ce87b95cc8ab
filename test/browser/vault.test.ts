/**
 * A Safe backup protected by a short password kept in the vault (docs/SAFE.md, "Protected by the
 * vault"), from the browser page in headless Chromium: the page's first visit does not fetch the
 * vault client (vault.js, OPAQUE's WebAssembly), choosing the option does; the vault refuses to keep
 * the key until an address is linked, and that refusal leaves no backup behind; after linking an
 * e-mail address in the panel the backup is made under a short password with 3 tries; in a fresh
 * browser context a wrong short password spends a try and restores nothing, and the right one
 * restores the identity under the same ID and gives the tries back. The codes come from the runner's
 * code sink, as an e-mail would; OPAQUE runs under the page's own Content-Security-Policy.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, launchChromium, openPanel, UI_TIMEOUT_MS } from '../support/browser.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';
import { vaultTriesLeft } from '../support/vault.ts';

const EMAIL = 'short.password@example.org';
const SHORT_PASSWORD = '2468';

let harness: TestRunner;
let browser: Browser;
const pageErrors: string[] = [];
/** Every line the runner's code delivery wrote (it stands in for e-mail): the code is at the end. */
const codeLines: string[] = [];

beforeAll(async () => {
  harness = await startTestRunner({ codeSink: (line) => codeLines.push(line) });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

/** Opens the page in `context`; the returned list collects the paths the page requests. */
async function open(context: BrowserContext): Promise<{ page: Page; requested: string[] }> {
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(harness.runner.httpUrl);
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true');
  return { page, requested };
}

/** The code of the next line the code sink gets after the `before` lines so far. */
async function nextCode(before: number): Promise<string> {
  await eventually(() => codeLines.length > before, UI_TIMEOUT_MS);
  return /: ([0-9]{6})$/.exec(codeLines.at(-1)!)![1]!;
}

/**
 * Asks for a restore code on `page` and returns it once the page has taken the answer: the page
 * empties the code field when the answer arrives, so a code typed before that would be wiped, as it
 * was when the code reached the sink before the page had the answer.
 */
async function sendRestoreCode(page: Page): Promise<string> {
  const lines = codeLines.length;
  await page.getByRole('button', { name: 'Send code' }).click();
  await page
    .locator('#status', { hasText: 'If that address is linked to the ID, a code is on its way.' })
    .waitFor();
  return nextCode(lines);
}

/** The vault's tries left for `identity` (undefined: no vault), read from its table. */
const triesLeft = (identity: string) => vaultTriesLeft(harness, identity);

async function safeBackups(): Promise<number> {
  const listed = await harness.clients.s3.send(
    new ListObjectsV2Command({ Bucket: harness.runner.safeBucket }),
  );
  return listed.KeyCount ?? 0;
}

function alert(page: Page, text: string) {
  return page.getByRole('alert').filter({ hasText: text });
}

describe('the vault client as the runner serves it', () => {
  it("serves vault.js beside app.js, keeps the WebAssembly out of app.js, and lets the page's policy allow WebAssembly, not eval", async () => {
    const base = harness.runner.httpUrl;
    const page = await fetch(base);
    // WebAssembly may be compiled, nothing else evaluated: no 'unsafe-eval', scripts from here only.
    const policy = page.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(policy).not.toContain("'unsafe-eval'");
    const app = await (await fetch(new URL('app.js', base))).text();
    const vault = await fetch(new URL('vault.js', base));
    expect(vault.status).toBe(200);
    expect(vault.headers.get('content-type')).toContain('javascript');
    // "\0asm", the start of every WebAssembly module, in base64: in vault.js only.
    const wasm = 'AGFzbQ';
    expect(await vault.text()).toContain(wasm);
    expect(app).not.toContain(wasm);
  });
});

describe('a Safe backup protected by a short password (headless Chromium)', () => {
  it('backs up under a short password after linking an address, and restores in a fresh browser: a wrong password spends a try, the right one restores the same ID', {
    timeout: 360_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const { page, requested } = await open(context);
    const id = await createIdentity(page);
    expect(requested).toContain('/app.js');
    expect(requested).not.toContain('/vault.js');

    await openPanel(page, 'settings');
    await page.getByLabel('Protect with a short password kept in the vault').check();
    // Choosing the option fetches the vault client, and swaps the Safe password for the vault's fields.
    await expect.poll(() => requested.includes('/vault.js'), { timeout: UI_TIMEOUT_MS }).toBe(true);
    expect(await page.getByLabel('Safe password (8 characters or more)').isHidden()).toBe(true);
    const tries = page.getByLabel('Wrong passwords allowed');
    expect(await tries.inputValue()).toBe('5');
    await tries.selectOption('3');

    // Bad input gets a clear message and uploads nothing.
    const before = await safeBackups();
    await page.getByLabel('Short password (4 characters or more)').fill(SHORT_PASSWORD);
    await page.getByLabel('The short password again').fill('1357');
    await page.getByRole('button', { name: 'Back up' }).click();
    await alert(page, 'The two short passwords differ. Nothing was backed up.').waitFor();
    // No linked address: the vault refuses the key, and the backup uploaded for it is deleted again.
    await page.getByLabel('The short password again').fill(SHORT_PASSWORD);
    await page.getByRole('button', { name: 'Back up' }).click();
    await alert(page, 'Link an e-mail address or phone number to your ID first').waitFor();
    expect(await triesLeft(id)).toBeUndefined();
    expect(await safeBackups()).toBe(before);

    // Linking an address in the panel: a code goes there, typed back.
    const address = page.getByLabel('E-mail address or phone number (international');
    await address.fill('not an address');
    await page.getByRole('button', { name: 'Send a code to link it' }).click();
    await alert(page, 'That is neither an e-mail address nor a phone number').waitFor();
    await address.fill(EMAIL);
    const linkLines = codeLines.length;
    await page.getByRole('button', { name: 'Send a code to link it' }).click();
    await page.getByLabel('Code sent to the address being linked').fill(await nextCode(linkLines));
    await page.getByRole('button', { name: 'Link the address' }).click();
    await page
      .locator('#link-status', { hasText: 'Linked: a restore asks for a code sent to that e-mail' })
      .waitFor();

    await page.getByRole('button', { name: 'Back up' }).click();
    await page
      .locator('#backup-status', {
        hasText:
          /^Backup stored: \d+ encrypted bytes, .* Its key is in the vault: 3 wrong short passwords allowed\.$/,
      })
      .waitFor();
    expect(await triesLeft(id)).toBe(3);
    expect(await safeBackups()).toBe(before + 1);
    expect(await page.getByLabel('Short password (4 characters or more)').inputValue()).toBe('');

    // A new device: a fresh browser context, nothing stored, the vault client not loaded.
    const freshContext = await browser.newContext({ viewport: { width: 1000, height: 900 } });
    const { page: fresh, requested: freshRequests } = await open(freshContext);
    expect(freshRequests).toContain('/app.js');
    expect(freshRequests).not.toContain('/vault.js');
    await fresh.getByText('Restore from a Threema Safe backup').click();
    await fresh.getByLabel('Your ID').fill(id.toLowerCase());
    await fresh.getByLabel('The backup is protected by a short password kept in the vault').check();
    expect(await fresh.getByLabel('Safe password', { exact: true }).isHidden()).toBe(true);
    const linked = fresh.getByLabel('E-mail address or phone number linked to the ID');
    const code = fresh.getByLabel('Code sent to that address');
    const shortPassword = fresh.getByLabel('Short password', { exact: true });

    // A wrong short password: one try spent, nothing restored.
    await linked.fill(EMAIL);
    await code.fill(await sendRestoreCode(fresh));
    await shortPassword.fill('1357');
    await fresh.getByRole('button', { name: 'Restore' }).click();
    await alert(
      fresh,
      'Wrong short password, or no backup protected by the vault for this ID: a try is spent',
    ).waitFor();
    expect(await triesLeft(id)).toBe(2);
    expect(await fresh.locator('#my-id').textContent()).toBe('');
    expect(await code.inputValue()).toBe('');

    // The right one, after a new code: the identity is back under the same ID, and so are the tries.
    await code.fill(await sendRestoreCode(fresh));
    await shortPassword.fill(SHORT_PASSWORD);
    await fresh.getByRole('button', { name: 'Restore' }).click();
    await fresh.getByText('Online', { exact: true }).waitFor();
    expect(await fresh.locator('#my-id').textContent()).toBe(id);
    await fresh.getByText('Restored from the backup, with 0 contacts.').waitFor();
    expect(await triesLeft(id)).toBe(3);
    expect(await shortPassword.inputValue()).toBe('');

    expect(pageErrors).toEqual([]);
    // Metadata restraint: neither the ID nor the address reached the server's logs.
    const logs = harness.logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(id);
    expect(logs).not.toContain(EMAIL);
    await Promise.all([context.close(), freshContext.close()]);
  });
});
