/**
 * `npm run bench [-- --quick]`: runs the benchmarks and rewrites their sections of BENCHMARKS.md.
 * Each benchmark owns the text between its `<!-- bench:<name>:start -->` and `:end -->` markers;
 * everything else in the file is left as it is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { runSafeBench, type SafeBenchResult } from './safe.ts';

const FILE = 'BENCHMARKS.md';

const INTRO = `# Benchmarks

Measured with \`npm run bench\` (\`-- --quick\` for a short run) on the machine named in each
section, against the local runner (DynamoDB Local + s3rver). They compare paths through Switchyard
with the embedded servers underneath them in the same run, so the ratios say what Switchyard's own
layers cost; absolute numbers depend on the machine and say nothing about AWS.
`;

function machine(command: string): string {
  const cpu = cpus();
  return [
    `- Machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `- Node.js ${process.version} on ${process.platform}/${process.arch}`,
    `- Date: ${new Date().toISOString()}`,
    `- Command: \`${command}\``,
  ].join('\n');
}

const fmt = (n: number) => n.toFixed(1);

/** A Markdown table padded the way the repository's formatter (Biome) lays tables out. */
export function markdownTable(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((cell, i) => Math.max(3, cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function safeSection(result: SafeBenchResult, command: string): string {
  const row = (name: string, s: SafeBenchResult['runner']) => [name, fmt(s.min), fmt(s.median), fmt(s.max)];
  const table = markdownTable(
    ['path', 'min pairs/s', 'median pairs/s', 'max pairs/s'],
    [row('through the runner (/safe/)', result.runner), row('directly on embedded S3', result.direct)],
    [false, true, true, true],
  );
  return `## P6 Safe

PUT + GET of one ${result.bodyBytes / 1024} KiB backup, sequentially, one client: through the
runner's \`/safe/backups/<id>\` (HTTP server → API Gateway-style router and payload-2.0 event →
Safe handler → S3 adapter → s3rver), against the same PUT + GET directly on the runner's embedded
s3rver with the SDK S3 client the handler uses. ${result.rounds} interleaved rounds of
${result.opsPerRound} PUT+GET pairs per path, after a warm-up.

${machine(command)}

${table}

**Ratio (runner median / direct median): ${result.ratio.toFixed(2)}** — the share of direct
throughput left after the HTTP hop, the base64 body round trip of payload format 2.0 and the handler.
`;
}

/** Replaces the text between a benchmark's markers, or appends the marked section. */
export function replaceSection(document: string, name: string, content: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${content.trimEnd()}\n${end}`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from >= 0 && to > from) return document.slice(0, from) + block + document.slice(to + end.length);
  return `${document.trimEnd()}\n\n${block}\n`;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({ options: { quick: { type: 'boolean' } }, strict: true });
  const quick = values.quick === true;
  const command = `npm run bench${quick ? ' -- --quick' : ''}`;

  process.stdout.write(
    `Safe: PUT+GET 64 KiB through the runner vs directly on embedded S3${quick ? ' (quick)' : ''}…\n`,
  );
  const safe = await runSafeBench({ quick });
  process.stdout.write(
    `  runner median ${fmt(safe.runner.median)} pairs/s · direct median ${fmt(safe.direct.median)} pairs/s · ratio ${safe.ratio.toFixed(2)}\n`,
  );

  const document = existsSync(FILE) ? readFileSync(FILE, 'utf8') : INTRO;
  writeFileSync(FILE, replaceSection(document, 'safe', safeSection(safe, command)));
  process.stdout.write(`Results written to ${FILE}.\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
