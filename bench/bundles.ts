/**
 * P5: every Lambda function's bundle — each manifest entry bundled with esbuild exactly as the CDK
 * app bundles it (lib/constructs/bundling.ts: ESM, minified, the AWS SDK inside, split into chunks)
 * — its size (what a cold start loads, and all files), and its cold import time in a fresh `node`
 * process under the Node.js major of the Lambda runtime the stacks deploy (brought from npm for this
 * benchmark only: the `node-<platform>-<arch>` package of that major, installed under
 * node_modules/.cache), and under this machine's Node.js for comparison.
 *
 * Side by side in the same rounds, the layout the functions had before (2026-12-03): one file with
 * `@aws-sdk/*` external, loaded from the runtime's SDK (here: the repository's node_modules, the
 * same CommonJS builds); an empty module (the floor: a fresh process's module loader); and for the
 * DynamoDB and S3 clients, a module that only creates the client, bundled alike (each client's floor).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../contract/manifest.ts';
import { SDK_PACKAGES, sdkPackages } from '../lambdas/runtime/sdk/packages.ts';
import {
  BUNDLE_ENTRY_FILE,
  bundleBytes,
  esbuildOptions,
  fakeLambdaEnvironment,
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
    env: { PATH: process.env.PATH ?? '', ...fakeLambdaEnvironment() },
    cwd: REPO_ROOT,
  });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`import timing failed for ${url}: ${stdout}`);
  return ms;
}

interface BundleResult {
  readonly name: FunctionName;
  /** Bytes of the files a cold start loads (index.mjs and the chunks it imports), and of all files. */
  readonly bytesAtLoad: number;
  readonly bytesTotal: number;
  /** `@aws-sdk/*` packages in the code a cold start loads, and only in chunks loaded on first use. */
  readonly sdkAtLoad: readonly string[];
  readonly sdkOnFirstUse: readonly string[];
  /** Import of the bundle on the Lambda runtime's Node.js major. */
  readonly importMs: Stats;
  /** Import of the earlier layout (one file, the SDK from the runtime), same Node.js. */
  readonly runtimeSdkMs: Stats;
  /** Bytes of that earlier layout's one file (without the SDK). */
  readonly runtimeSdkBytes: number;
  /** Import of the bundle on this machine's Node.js. */
  readonly localImportMs: Stats;
}

export interface BundlesResult {
  readonly runs: number;
  readonly functions: BundleResult[];
  readonly emptyMs: Stats;
  /** A module that only creates one SDK client, bundled the same way: each client's own floor. */
  readonly clientFloors: readonly {
    readonly client: string;
    readonly bytesAtLoad: number;
    readonly importMs: Stats;
  }[];
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
  const built: (Omit<BundleResult, 'importMs' | 'runtimeSdkMs' | 'localImportMs'> & {
    file: string;
    runtimeSdkFile: string;
  })[] = [];
  let target = '';
  try {
    for (const name of FUNCTION_NAMES) {
      const dir = join(out, name);
      const bundling = esbuildOptions(FUNCTIONS[name].entry, dir);
      target = bundling.target;
      const { metafile } = await build(bundling);
      const bytes = bundleBytes(metafile);
      const sdk = sdkImportsOf(metafile, SDK_PACKAGES);
      const expected = sdkPackages(FUNCTIONS[name]);
      if (
        sdk.atLoad.join() !== expected.atLoad.join() ||
        sdk.onFirstUse.join() !== expected.onFirstUse.join()
      )
        throw new Error(`${name}: the bundle's SDK packages differ from lambdas/runtime/sdk/packages.ts`);
      // The earlier layout: one file, `@aws-sdk/*` left to the runtime.
      const runtimeSdkDir = join(out, `${name}-runtime-sdk`);
      const earlier = await build({
        ...bundling,
        outdir: runtimeSdkDir,
        splitting: false,
        external: ['@aws-sdk/*'],
      });
      built.push({
        name,
        file: join(dir, BUNDLE_ENTRY_FILE),
        runtimeSdkFile: join(runtimeSdkDir, BUNDLE_ENTRY_FILE),
        bytesAtLoad: bytes.atLoad,
        bytesTotal: bytes.total,
        runtimeSdkBytes: bundleBytes(earlier.metafile).total,
        sdkAtLoad: sdk.atLoad,
        sdkOnFirstUse: sdk.onFirstUse,
      });
    }
    const emptyFile = join(out, 'empty.mjs');
    writeFileSync(emptyFile, '');
    // Each client's floor: a module that creates the client and does nothing else, bundled alike.
    const floors: { client: string; dir: string; bytesAtLoad: number }[] = [];
    for (const [client, pkg] of FLOOR_CLIENTS) {
      const source = join(out, `floor-${client}.mjs`);
      writeFileSync(
        source,
        `import { ${client} } from '${pkg}';\nexport const client = new ${client}({});\n`,
      );
      const dir = join(out, `floor-${client}`);
      const { metafile } = await build(esbuildOptions(source, dir));
      floors.push({ client, dir, bytesAtLoad: bundleBytes(metafile).atLoad });
    }

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
        await time(`${b.name}:runtime-sdk`, node24.path, b.runtimeSdkFile, record);
        await time(`${b.name}:local`, process.execPath, b.file, record);
      }
      await time('empty', node24.path, emptyFile, record);
      for (const floor of floors)
        await time(`floor:${floor.client}`, node24.path, join(floor.dir, BUNDLE_ENTRY_FILE), record);
    }
    return {
      runs,
      target,
      load: [loadAtStart, loadAverage()],
      lambdaNodeVersion: node24.version,
      emptyMs: stats(timings.get('empty') ?? []),
      clientFloors: floors.map((floor) => ({
        client: floor.client,
        bytesAtLoad: floor.bytesAtLoad,
        importMs: stats(timings.get(`floor:${floor.client}`) ?? []),
      })),
      functions: built.map(({ file: _file, runtimeSdkFile: _runtimeSdkFile, ...b }) => ({
        ...b,
        importMs: stats(timings.get(b.name) ?? []),
        runtimeSdkMs: stats(timings.get(`${b.name}:runtime-sdk`) ?? []),
        localImportMs: stats(timings.get(`${b.name}:local`) ?? []),
      })),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The clients whose floor P5 measures: those every function that uses AWS loads first. */
const FLOOR_CLIENTS = [
  ['DynamoDBClient', '@aws-sdk/client-dynamodb'],
  ['S3Client', '@aws-sdk/client-s3'],
] as const;

const shortName = (path: string) => path.replace('@aws-sdk/', '').replace('client-', '');

export function bundlesReport(result: BundlesResult): BenchReport {
  const largest = result.functions.reduce((a, b) => (b.bytesTotal > a.bytesTotal ? b : a));
  const largestAtLoad = Math.max(...result.functions.map((f) => f.bytesAtLoad));
  const slowest = result.functions.reduce((a, b) => (b.importMs.median > a.importMs.median ? b : a));
  const slowestEarlier = Math.max(...result.functions.map((f) => f.runtimeSdkMs.median));
  const slowestLocal = Math.max(...result.functions.map((f) => f.localImportMs.median));
  const overSize = result.functions.filter((f) => f.bytesTotal > TARGET_BYTES);
  const overTime = result.functions.filter((f) => f.importMs.median > TARGET_IMPORT_MS);
  const gains = result.functions.map((f) => 1 - f.importMs.median / f.runtimeSdkMs.median);
  const rows = result.functions.map((f) => [
    f.name,
    fixed(f.bytesAtLoad / 1000, 1),
    fixed(f.bytesTotal / 1000, 1),
    triple(f.importMs),
    fixed(f.runtimeSdkMs.median),
    fixed(f.localImportMs.median),
    f.sdkAtLoad.length ? f.sdkAtLoad.map(shortName).join(', ') : '—',
    f.sdkOnFirstUse.length ? f.sdkOnFirstUse.map(shortName).join(', ') : '—',
  ]);
  const major = `Node.js ${NODE_MAJOR}`;
  const table = markdownTable(
    [
      'function',
      'KB loaded at cold start',
      'KB all files',
      `import ms on ${major} min / median / max`,
      'earlier layout, runtime SDK: import ms',
      `import ms on ${process.version}`,
      'SDK loaded with the function',
      'SDK loaded on first use',
    ],
    rows,
    [false, true, true, true, true, true, false, false],
  );
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  return {
    id: 'P5',
    name: 'bundles',
    summary: `Lambda bundles: largest **${fixed(largest.bytesTotal / 1000)} KB** (${largest.name}; ${fixed(largestAtLoad / 1000)} KB at most loaded at cold start; target ≤ ${TARGET_BYTES / 1000} KB: ${verdict(overSize.length === 0)}); slowest median cold import on ${major} **${fixed(slowest.importMs.median)} ms** (${slowest.name}; target ≤ ${TARGET_IMPORT_MS} ms: ${verdict(overTime.length === 0)}); the slowest with the runtime's SDK, as before: ${fixed(slowestEarlier)} ms.`,
    section: (command) => `## P5 Lambda bundles and cold import

Each manifest entry bundled with esbuild exactly as the CDK app bundles it (\`lib/constructs/bundling.ts\`,
run by \`lib/constructs/manifest-function.ts\`: ESM, minified, target \`${result.target}\`, the AWS SDK inside,
split into chunks), then imported with \`await import()\` in a fresh process with the environment the
stack sets, on Node.js ${result.lambdaNodeVersion} — the major version of the Lambda runtime the stacks deploy
(\`${NODE_RUNTIME.name}\`), from npm's \`node-${process.platform}-${process.arch}\` package, for this benchmark only — and on this
machine's Node.js ${process.version}. "Loaded at cold start" is \`index.mjs\` and the chunks it imports
statically; the other chunks are loaded by \`import()\` when first needed: the SDK's credential providers
after the environment's (Lambda hands credentials in the environment), and the clients only some
deployments or few requests use (SES and SNS for verification codes, Secrets Manager for the Safe's
optional Basic auth). \`test/infra/bundles.test.ts\` holds every bundle to that list. Side by side, in
the same rounds: the earlier layout (until 2026-12-03), one file with \`@aws-sdk/*\` external, imported
where the SDK resolves from this repository's \`node_modules\` as the runtime's SDK would. ${result.runs} rounds after
one discarded round that warms the page cache, min / median / max. An empty module takes
${triple(result.emptyMs, 2)} ms (the floor). KB = 1000 bytes.

${machine(command, result.load)}

${table}

**Size: largest bundle ${fixed(largest.bytesTotal / 1000, 1)} KB (${largest.name}), at most ${fixed(largestAtLoad / 1000, 1)} KB loaded at a cold start — target ≤ ${TARGET_BYTES / 1000} KB ${verdict(overSize.length === 0)}${
      overSize.length ? ` for ${overSize.length} of ${result.functions.length} functions` : ''
    }. Import on ${major}: slowest median ${fixed(slowest.importMs.median)} ms (${slowest.name}) — target ≤ ${TARGET_IMPORT_MS} ms ${verdict(overTime.length === 0)}${
      overTime.length ? ` for ${overTime.length} of ${result.functions.length} functions` : ''
    }; with the runtime's SDK the slowest was ${fixed(slowestEarlier)} ms. On ${process.version}: slowest median ${fixed(slowestLocal)} ms.**

Bundling the SDK and splitting it made ${
      Math.min(...gains) > 0
        ? `every function's cold import ${fixed(100 * Math.min(...gains), 0)}–${fixed(100 * Math.max(...gains), 0)} % quicker`
        : `the cold imports between ${fixed(-100 * Math.min(...gains), 0)} % slower and ${fixed(100 * Math.max(...gains), 0)} % quicker`
    }
than loading the runtime's SDK (medians, same rounds). The runtime's SDK is CommonJS: its first
import compiles each client's every command and protocol and the whole credential chain; the
bundle holds only what the function's code reaches, and the credential chain past the environment
waits in chunks. The price is size: the SDK's code is now in the bundles, over the ${TARGET_BYTES / 1000} KB budget set
when it was not (the earlier one-file layout's largest was ${fixed(Math.max(...result.functions.map((f) => f.runtimeSdkBytes)) / 1000, 1)} KB without the SDK). What
a cold start still compiles is mostly the SDK's shared core (its protocols, serde, retry and
endpoint rules) and Node.js's own modules for HTTPS. Each client's floor, a module that only
creates it, bundled alike, in the same rounds: ${result.clientFloors
      .map((f) => `\`${f.client}\` ${fixed(f.bytesAtLoad / 1000, 1)} KB, ${triple(f.importMs)} ms`)
      .join('; ')}. ${
      overTime.length
        ? `Over ${TARGET_IMPORT_MS} ms in this run: ${overTime
            .map(
              (f) =>
                `\`${f.name}\` (${fixed(f.bytesAtLoad / 1000, 1)} KB at load: ${f.sdkAtLoad.map(shortName).join(', ')})`,
            )
            .join('; ')}; the clients' floors alone are most of each. `
        : ''
    }This shared machine's speed drifts between runs (compare the empty module and the floors, timed
in the same rounds), and a median near ${TARGET_IMPORT_MS} ms can land on either side of it. Measured here, not
on Lambda (arm64), whose cold start adds the runtime's own start and the code
download, and whose CPU share at 256 MB is smaller.
`,
  };
}
