/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core
 * (no browser download), and the page steps more than one test takes.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Playwright waits (auto-waiting locators) for up to this long; scrypt in pure JS takes a few seconds. */
export const UI_TIMEOUT_MS = 60_000;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install Debian's package: apt-get install -y chromium ` +
        '(or point CHROMIUM_PATH at a Chromium binary). .ci/run installs it when missing.',
    );
  }
  return chromium.launch({
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
}

/** Creates an identity on the start screen and waits until the page is online; returns the ID. */
export async function createIdentity(page: Page, passphrase = ''): Promise<string> {
  await expect.poll(() => page.getByRole('button', { name: 'Create identity' }).isVisible()).toBe(true);
  if (passphrase)
    await page.getByLabel('Passphrase to lock the key on this device (optional)').fill(passphrase);
  await page.getByRole('button', { name: 'Create identity' }).click();
  await page.getByText('Online', { exact: true }).waitFor();
  return (await page.locator('#my-id').textContent())!;
}

/** Opens a `<details>` panel of the page unless it is open already. */
export async function openPanel(page: Page, id: string): Promise<void> {
  if (!(await page.locator(`#${id}`).evaluate((node) => (node as HTMLDetailsElement).open)))
    await page.locator(`#${id} > summary`).click();
}
