/**
 * P11: the browser client's page weight and time to interactive on this machine. Weight: the files
 * the page loads on a first visit (web/build.ts, as the runner serves them and as static hosting
 * would; which ones, Chromium's request log tells), raw and gzipped; the files it loads only on
 * demand (the service worker, the vault client) are listed beside them, not counted. Time to
 * interactive: Debian's headless Chromium (playwright-core) opens the page served
 * by a local runner in a fresh browser context each round, and reads the page's own
 * `switchyard:interactive` mark (web/app.ts sets it once its forms answer input): for a first visit
 * (the start screen) and for a returning person (the stored identity opened, the conversations
 * drawn from the device store, logged in to the chat server).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { startRunner } from '../local/runner.ts';
import { buildWeb } from '../web/build.ts';
import {
  type BenchOptions,
  type BenchReport,
  fixed,
  loadAverage,
  machine,
  markdownTable,
  type Stats,
  stats,
} from './support.ts';

/** Everything the page loads on a first visit, gzipped. */
export const TARGET_GZIP_BYTES = 150 * 1000;
/** First visit, median. */
export const TARGET_INTERACTIVE_MS = 1000;

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** When the page fetches the files a first visit does not. */
const ON_DEMAND: Readonly<Record<string, string>> = {
  'sw.js': 'when Web Push is turned on (Settings → Notifications)',
  'vault.js': 'when a backup or restore with a short password kept in the vault is chosen',
};

export interface WebBenchResult {
  /** Every file web/build.ts makes; `firstVisit`: a first visit fetched it (it counts in the weight). */
  readonly files: ReadonlyArray<{ name: string; bytes: number; gzip: number; firstVisit: boolean }>;
  readonly rounds: number;
  /** ms from navigation start to the page's interactive mark. */
  readonly firstVisit: Stats;
  readonly returning: Stats;
  readonly load: readonly [number, number];
}

async function interactiveMs(page: Page): Promise<number> {
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', undefined, {
    timeout: 60_000,
  });
  return page.evaluate(() => performance.getEntriesByName('switchyard:interactive')[0]!.startTime);
}

export async function runWebBench(options: BenchOptions): Promise<WebBenchResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`P11 needs Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const loadAtStart = loadAverage();
  const built = await buildWeb();
  const rounds = options.quick ? 3 : 10;
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const runner = await startRunner({ dataDir, port: 0, sweepIntervalMs: 0, logSink: () => {} });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  try {
    // The page is bundled on its first request: once before measuring. This first visit's requests
    // say which files count in the page's weight.
    const warm = await browser.newContext();
    const warmPage = await warm.newPage();
    const fetched = new Set<string>();
    warmPage.on('request', (request) =>
      fetched.add(new URL(request.url()).pathname.slice(1) || 'index.html'),
    );
    await warmPage.goto(runner.httpUrl);
    await interactiveMs(warmPage);
    await warm.close();
    const files = [...built].map(([name, file]) => ({
      name,
      bytes: file.body.length,
      gzip: gzipSync(file.body, { level: 9 }).length,
      firstVisit: fetched.has(name),
    }));
    const first: number[] = [];
    const returning: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(runner.httpUrl);
      first.push(await interactiveMs(page));
      await page.getByRole('button', { name: 'Create identity' }).click();
      await page.getByText('Online', { exact: true }).waitFor({ timeout: 60_000 });
      await page.reload();
      returning.push(await interactiveMs(page));
      await context.close();
      options.progress(
        `  round ${round + 1}/${rounds}: first ${fixed(first.at(-1)!)} ms, returning ${fixed(returning.at(-1)!)} ms`,
      );
    }
    return {
      files,
      rounds,
      firstVisit: stats(first),
      returning: stats(returning),
      load: [loadAtStart, loadAverage()],
    };
  } finally {
    await browser.close();
    await runner.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function webReport(result: WebBenchResult): BenchReport {
  const loaded = result.files.filter((file) => file.firstVisit);
  const later = result.files.filter((file) => !file.firstVisit);
  const totalBytes = loaded.reduce((sum, file) => sum + file.bytes, 0);
  const totalGzip = loaded.reduce((sum, file) => sum + file.gzip, 0);
  const kb = (n: number) => fixed(n / 1000, 1);
  const weight = markdownTable(
    ['file', 'bytes (kB)', 'gzip -9 (kB)'],
    [
      ...loaded.map((file) => [file.name, kb(file.bytes), kb(file.gzip)]),
      ['**total**', kb(totalBytes), kb(totalGzip)],
    ],
    [false, true, true],
  );
  const onDemand = markdownTable(
    ['file (on demand)', 'bytes (kB)', 'gzip -9 (kB)', 'fetched'],
    later.map((file) => [file.name, kb(file.bytes), kb(file.gzip), ON_DEMAND[file.name] ?? '—']),
    [false, true, true, false],
  );
  const vault = result.files.find((file) => file.name === 'vault.js');
  const row = (name: string, s: Stats) => [name, fixed(s.min, 0), fixed(s.median, 0), fixed(s.max, 0)];
  const times = markdownTable(
    ['visit', 'min ms', 'median ms', 'max ms'],
    [
      row('first visit (start screen)', result.firstVisit),
      row('returning (identity opened, online)', result.returning),
    ],
    [false, true, true, true],
  );
  const weightMet = totalGzip <= TARGET_GZIP_BYTES;
  const timeMet = result.firstVisit.median <= TARGET_INTERACTIVE_MS;
  return {
    id: 'P11',
    name: 'web',
    summary: `Browser client page weight **${kb(totalGzip)} kB** gzipped (${kb(totalBytes)} kB raw; target ≤ ${kb(TARGET_GZIP_BYTES)} kB: ${weightMet ? 'met' : 'missed'})${vault ? `, the vault client loaded on demand ${kb(vault.gzip)} kB more` : ''}; time to interactive **${fixed(result.firstVisit.median, 0)} ms** first visit (target ≤ ${TARGET_INTERACTIVE_MS} ms: ${timeMet ? 'met' : 'missed'}), ${fixed(result.returning.median, 0)} ms returning and online.`,
    section: (command) => `## P11 Browser client: page weight and time to interactive

The files the page loads on a first visit (\`web/build.ts\`: what the runner serves at \`/\` and what
static hosting uploads, as fetched by the first visit in Chromium; \`config.json\` adds ~0.2 kB),
the files it fetches only on demand (not in the weight), and the time from navigation start to the
page's own \`switchyard:interactive\` mark (its forms answer input) in Debian's headless Chromium, against a
local runner on this machine, a fresh browser context per round (no cache), ${result.rounds} rounds. *First
visit*: the start screen. *Returning*: the same context reloaded after creating an identity, so
the mark comes after opening the key store and the encrypted device store, drawing the
conversations and logging in to the chat server (handshake included).

${machine(command, result.load)}

${weight}

${onDemand}

${times}

**Page weight ${kb(totalGzip)} kB gzipped — target ≤ ${kb(TARGET_GZIP_BYTES)} kB ${weightMet ? 'met' : 'missed'}; first visit
${fixed(result.firstVisit.median, 0)} ms — target ≤ ${TARGET_INTERACTIVE_MS} ms ${timeMet ? 'met' : 'missed'}.** Most of app.js is the
SDK's crypto (tweetnacl, @noble/hashes' scrypt/SHA-2/HKDF), fflate for Safe backups and the QR
encoder/decoder (npm \`qr\`). vault.js is the vault client, imported only when someone chooses a
short password kept in the vault: most of it is the WebAssembly that \`@serenity-kit/opaque\` carries
as base64 (OPAQUE, Argon2id).
`,
  };
}
