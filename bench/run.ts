/**
 * `npm run bench [-- --quick] [-- --only P1,P3]`: runs the benchmarks and rewrites their sections
 * of BENCHMARKS.md. Each benchmark owns the text between its `<!-- bench:<name>:start -->` and
 * `:end -->` markers, and the summary block keeps one line per P; everything else in the file is
 * left as it is. Exits non-zero when a guarantee the harness asserts was broken (lost or duplicated
 * messages), after writing the results.
 *
 *   P1, P2  bench/chat.ts      chat throughput ÷ DynamoDB Local; send → deliver latency
 *   P3, P4  bench/requests.ts  DynamoDB requests per message at scale; AWS cost per million
 *   P5      bench/bundles.ts   Lambda bundle sizes and cold import times
 *   P6      bench/safe.ts      Safe PUT+GET through the runner ÷ directly on embedded S3
 *   P7      bench/requests.ts  AWS cost per always-connected client (with P3, P4)
 *   P8      bench/media.ts     10 MiB blob through presigned URLs ÷ directly on embedded S3
 *   P10     bench/vault.ts     vault login through the runner ÷ OPAQUE alone; the vault bundle
 *   P11     bench/web.ts       the browser client's page weight and time to interactive (Chromium)
 *   P12     bench/push.ts      requests and cost per push wake-up (stream, DynamoDB, provider)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bundlesReport, runBundlesBench } from './bundles.ts';
import { chatReports, runChatBench } from './chat.ts';
import { mediaReport, runMediaBench } from './media.ts';
import { pushReport, runPushBench } from './push.ts';
import { requestsReports, runRequestsBench } from './requests.ts';
import { runSafeBench, safeReport } from './safe.ts';
import {
  type BenchOptions,
  type BenchReport,
  cleanUpWhenInterrupted,
  machine,
  replaceSection,
} from './support.ts';
import { runVaultBench, vaultReport } from './vault.ts';
import { runWebBench, webReport } from './web.ts';

const FILE = 'BENCHMARKS.md';

const INTRO = `# Benchmarks

Measured with \`npm run bench\` (\`-- --quick\` for a short run, \`-- --only P1,P3\` for some) against
the local runner (DynamoDB Local + s3rver). They compare paths through Switchyard with the embedded
servers underneath them in the same run, so the ratios say what Switchyard's own layers cost;
absolute numbers depend on the machine and say nothing about AWS.
`;

interface Bench {
  readonly ids: readonly string[];
  readonly label: string;
  run(options: BenchOptions): Promise<BenchReport[]>;
}

const BENCHES: readonly Bench[] = [
  {
    ids: ['P1', 'P2'],
    label: 'chat throughput and latency through the runner vs DynamoDB Local',
    run: async (options) => chatReports(await runChatBench(options)),
  },
  {
    ids: ['P3', 'P4', 'P7'],
    label: 'DynamoDB requests per message at scale, cost per million messages and per connected client',
    run: async (options) => requestsReports(await runRequestsBench(options)),
  },
  {
    ids: ['P5'],
    label: 'Lambda bundle sizes and cold import times',
    run: async (options) => [bundlesReport(await runBundlesBench(options))],
  },
  {
    ids: ['P6'],
    label: 'Safe PUT+GET 64 KiB through the runner vs directly on embedded S3',
    run: async (options) => [safeReport(await runSafeBench(options))],
  },
  {
    ids: ['P8'],
    label: 'media 10 MiB upload+download through presigned URLs vs directly on embedded S3',
    run: async (options) => [mediaReport(await runMediaBench(options))],
  },
  {
    ids: ['P10'],
    label: 'vault login through the runner vs OPAQUE alone; the vault bundle and its cold import',
    run: async (options) => [vaultReport(await runVaultBench(options))],
  },
  {
    ids: ['P11'],
    label: 'browser client page weight and time to interactive (headless Chromium)',
    run: async (options) => [webReport(await runWebBench(options))],
  },
  {
    ids: ['P12'],
    label: 'push wake-ups: stream invocations, DynamoDB and provider requests, cost per wake-up',
    run: async (options) => [pushReport(await runPushBench(options))],
  },
];

const ALL_IDS = BENCHES.flatMap((bench) => bench.ids);

/** The summary block: one line per P, the lines of P's not run this time kept as they were. */
function summaryBlock(document: string, reports: readonly BenchReport[], command: string): string {
  const lines = new Map<string, string>();
  const existing =
    /<!-- bench:summary:start -->([\s\S]*?)<!-- bench:summary:end -->/.exec(document)?.[1] ?? '';
  for (const match of existing.matchAll(/^- \*\*(P\d+)\*\* .*$/gm)) lines.set(match[1]!, match[0]);
  for (const report of reports) lines.set(report.id, `- **${report.id}** ${report.summary}`);
  const ordered = [...lines.entries()]
    .sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)))
    .map(([, line]) => line);
  return `## Summary

Latest result per benchmark (each section below names its own machine, date and command; this
block was last updated by \`${command}\`).

${ordered.join('\n')}
`;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  cleanUpWhenInterrupted();
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, only: { type: 'string' } },
    strict: true,
  });
  const quick = values.quick === true;
  const only = values.only?.split(',').map((id) => id.trim().toUpperCase());
  const unknown = only?.filter((id) => !ALL_IDS.includes(id)) ?? [];
  if (unknown.length > 0)
    throw new Error(`unknown benchmark ${unknown.join(', ')}: pick from ${ALL_IDS.join(', ')}`);
  const command = `npm run bench${quick || only ? ' --' : ''}${quick ? ' --quick' : ''}${only ? ` --only ${only.join(',')}` : ''}`;
  const selected = BENCHES.filter((bench) => !only || bench.ids.some((id) => only.includes(id)));

  process.stdout.write(`${machine(command)}\n`);
  const reports: BenchReport[] = [];
  for (const bench of selected) {
    const started = performance.now();
    process.stdout.write(`${bench.ids.join(', ')}: ${bench.label}${quick ? ' (quick)' : ''}…\n`);
    const produced = await bench.run({ quick, progress: (line) => process.stdout.write(`${line}\n`) });
    for (const report of produced) process.stdout.write(`  ${report.id}: ${report.summary}\n`);
    process.stdout.write(`  (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    // A bench that computes several P's writes only those asked for with --only.
    reports.push(...produced.filter((report) => !only || only.includes(report.id)));
  }

  let document = existsSync(FILE) ? readFileSync(FILE, 'utf8') : INTRO;
  for (const report of reports) document = replaceSection(document, report.name, report.section(command));
  document = replaceSection(document, 'summary', summaryBlock(document, reports, command));
  writeFileSync(FILE, document);
  process.stdout.write(`Results written to ${FILE}.\n`);

  const failures = reports.flatMap((report) => report.failures ?? []);
  if (failures.length > 0) {
    process.stderr.write(`bench: guarantees broken:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
