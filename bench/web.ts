/**
 * P11: the browser client's page weight and time to interactive on this machine. Weight: the files
 * the page loads (web/build.ts, as the runner serves them and as static hosting would), raw and
 * gzipped. Time to interactive: Debian's headless Chromium (playwright-core) opens the page served
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

/** Everything the page loads, gzipped. */
export const TARGET_GZIP_BYTES = 150 * 1000;
/** First visit, median. */
export const TARGET_INTERACTIVE_MS = 1000;

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export interface WebBenchResult {
  readonly files: ReadonlyArray<{ name: string; bytes: number; gzip: number }>;
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
  const files = [...(await buildWeb())].map(([name, file]) => ({
    name,
    bytes: file.body.length,
    gzip: gzipSync(file.body, { level: 9 }).length,
  }));
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
    // The page is bundled on its first request: once before measuring.
    const warm = await browser.newContext();
    await interactiveMs(await (await warm.newPage()).goto(runner.httpUrl).then((r) => r!.frame().page()));
    await warm.close();
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
  const totalBytes = result.files.reduce((sum, file) => sum + file.bytes, 0);
  const totalGzip = result.files.reduce((sum, file) => sum + file.gzip, 0);
  const kb = (n: number) => fixed(n / 1000, 1);
  const weight = markdownTable(
    ['file', 'bytes (kB)', 'gzip -9 (kB)'],
    [
      ...result.files.map((file) => [file.name, kb(file.bytes), kb(file.gzip)]),
      ['**total**', kb(totalBytes), kb(totalGzip)],
    ],
    [false, true, true],
  );
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
    summary: `Browser client page weight **${kb(totalGzip)} kB** gzipped (${kb(totalBytes)} kB raw; target ≤ ${kb(TARGET_GZIP_BYTES)} kB: ${weightMet ? 'met' : 'missed'}); time to interactive **${fixed(result.firstVisit.median, 0)} ms** first visit (target ≤ ${TARGET_INTERACTIVE_MS} ms: ${timeMet ? 'met' : 'missed'}), ${fixed(result.returning.median, 0)} ms returning and online.`,
    section: (command) => `## P11 Browser client: page weight and time to interactive

The files the page loads (\`web/build.ts\`: what the runner serves at \`/\` and what static hosting
uploads; \`config.json\` adds ~0.2 kB), and the time from navigation start to the page's own
\`switchyard:interactive\` mark (its forms answer input) in Debian's headless Chromium, against a
local runner on this machine, a fresh browser context per round (no cache), ${result.rounds} rounds. *First
visit*: the start screen. *Returning*: the same context reloaded after creating an identity, so
the mark comes after opening the key store and the encrypted device store, drawing the
conversations and logging in to the chat server (handshake included).

${machine(command, result.load)}

${weight}

${times}

**Page weight ${kb(totalGzip)} kB gzipped — target ≤ ${kb(TARGET_GZIP_BYTES)} kB ${weightMet ? 'met' : 'missed'}; first visit
${fixed(result.firstVisit.median, 0)} ms — target ≤ ${TARGET_INTERACTIVE_MS} ms ${timeMet ? 'met' : 'missed'}.** Most of app.js is the
SDK's crypto (tweetnacl, @noble/hashes' scrypt/SHA-2/HKDF), fflate for Safe backups and the QR
encoder/decoder (npm \`qr\`).
`,
  };
}
