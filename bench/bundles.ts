/**
 * P5: every Lambda function's bundle — each manifest entry bundled with esbuild the way
 * lib/constructs/manifest-function.ts has NodejsFunction do it (ESM, minified, `@aws-sdk/*`
 * external, the createRequire banner, main fields module,main, target from the pinned runtime) —
 * its size, and its cold import time in a fresh `node` process.
 *
 * The Lambda runtime provides `@aws-sdk/*`, so it is not in the bundle, but its import is part of a
 * cold start: the bundles are written under node_modules/.cache so the SDK resolves from the
 * repository's node_modules, and each run also imports just the SDK packages that bundle uses, and
 * an empty module (the floor: a fresh process's module loader), in the same rounds.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName, type FunctionSpec } from '../contract/manifest.ts';
import { NODE_RUNTIME, REPO_ROOT } from '../lib/constructs/manifest-function.ts';
import {
  type BenchOptions,
  type BenchReport,
  fixed,
  machine,
  markdownTable,
  type Stats,
  stats,
  triple,
} from './support.ts';

const run = promisify(execFile);

export const TARGET_BYTES = 300 * 1000;
export const TARGET_IMPORT_MS = 150;

/** The bundling options of lib/constructs/manifest-function.ts, as esbuild's API spells them. */
function bundleOptions(entry: string, outfile: string) {
  const target = `node${/nodejs(\d+)/.exec(NODE_RUNTIME.name)?.[1] ?? '20'}`;
  return {
    entryPoints: [join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node' as const,
    target,
    format: 'esm' as const,
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    external: ['@aws-sdk/*'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'silent' as const,
  };
}

/** Configuration the entry files parse at cold start, as the CDK stack sets it (values are fakes). */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  TABLE_IDENTITIES: 'identities',
  TABLE_MAILBOX: 'mailbox',
  TABLE_CONNECTIONS: 'connections',
  TABLE_EPHEMERAL: 'ephemeral',
  SAFE_BUCKET: 'safe',
  WS_MANAGEMENT_ENDPOINT: 'https://example.execute-api.us-east-1.amazonaws.com/ws',
  SERVER_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:switchyard-server-key-AbCdEf',
};

/** Milliseconds one `import()` of `url` takes in a fresh node process. */
async function importMs(url: string): Promise<number> {
  const script =
    'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, url], {
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
  /** `@aws-sdk/*` packages the bundle imports. */
  readonly sdkPackages: string[];
  /** Those the function's manifest entry says it uses. */
  readonly sdkNeeded: string[];
  readonly importMs: Stats;
  readonly sdkOnlyMs: Stats;
  readonly sdkNeededMs: Stats;
}

/** The SDK packages a function needs, from what its manifest entry grants it. */
function neededSdk(name: FunctionName): string[] {
  const spec: FunctionSpec = FUNCTIONS[name];
  const needed: string[] = [];
  if (Object.keys(spec.tables).length > 0) needed.push('@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb');
  if (spec.safeBucket.length > 0) needed.push('@aws-sdk/client-s3');
  if (spec.manageConnections) needed.push('@aws-sdk/client-apigatewaymanagementapi');
  if (spec.readsServerKey || spec.readsSafeAuthSecret) needed.push('@aws-sdk/client-secrets-manager');
  if (spec.sendsVerificationCodes) needed.push('@aws-sdk/client-sesv2', '@aws-sdk/client-sns');
  return needed.sort();
}

export interface BundlesResult {
  readonly runs: number;
  readonly functions: BundleResult[];
  readonly emptyMs: Stats;
  readonly target: string;
}

export async function runBundlesBench(options: BenchOptions): Promise<BundlesResult> {
  const runs = options.quick ? 3 : 7;
  const out = join(REPO_ROOT, 'node_modules', '.cache', 'switchyard-bench', 'bundles');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const built: {
    name: FunctionName;
    file: string;
    sdkFile: string;
    neededFile: string;
    bytes: number;
    sdk: string[];
  }[] = [];
  const importsOf = (packages: Iterable<string>) =>
    [...packages].map((path) => `import '${path}';`).join('\n');
  let target = '';
  try {
    for (const name of FUNCTION_NAMES) {
      const dir = join(out, name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'index.mjs');
      const options = bundleOptions(FUNCTIONS[name].entry, file);
      target = options.target;
      const result = await build(options);
      const sdk = new Set<string>();
      for (const input of Object.values(result.metafile?.inputs ?? {}))
        for (const imported of input.imports)
          if (imported.external && imported.path.startsWith('@aws-sdk/')) sdk.add(imported.path);
      // The same SDK imports on their own: what the runtime-provided SDK costs this function.
      const sdkFile = join(dir, 'sdk-only.mjs');
      writeFileSync(sdkFile, importsOf(sdk));
      // Only the SDK packages the function uses: what importing just those would cost.
      const neededFile = join(dir, 'sdk-needed.mjs');
      writeFileSync(neededFile, importsOf(neededSdk(name)));
      built.push({ name, file, sdkFile, neededFile, bytes: statSync(file).size, sdk: [...sdk].sort() });
    }
    const emptyFile = join(out, 'empty.mjs');
    writeFileSync(emptyFile, '');

    const timings = new Map<string, number[]>();
    const time = async (key: string, file: string) => {
      const ms = await importMs(pathToFileURL(file).href);
      timings.set(key, [...(timings.get(key) ?? []), ms]);
    };
    // One discarded round warms the page cache, as a Lambda's code is on local disk before init.
    for (let round = -1; round < runs; round++) {
      options.progress(`  round ${round + 1}/${runs}`);
      const record = round >= 0;
      for (const b of built) {
        if (record) {
          await time(`${b.name}`, b.file);
          await time(`${b.name}:sdk`, b.sdkFile);
          await time(`${b.name}:needed`, b.neededFile);
        } else {
          for (const file of [b.file, b.sdkFile, b.neededFile]) await importMs(pathToFileURL(file).href);
        }
      }
      if (record) await time('empty', emptyFile);
      else await importMs(pathToFileURL(emptyFile).href);
    }
    return {
      runs,
      target,
      emptyMs: stats(timings.get('empty') ?? []),
      functions: built.map((b) => ({
        name: b.name,
        bytes: b.bytes,
        sdkPackages: b.sdk,
        sdkNeeded: neededSdk(b.name),
        importMs: stats(timings.get(b.name) ?? []),
        sdkOnlyMs: stats(timings.get(`${b.name}:sdk`) ?? []),
        sdkNeededMs: stats(timings.get(`${b.name}:needed`) ?? []),
      })),
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function bundlesReport(result: BundlesResult): BenchReport {
  const largest = Math.max(...result.functions.map((f) => f.bytes));
  const slowest = Math.max(...result.functions.map((f) => f.importMs.median));
  const overSize = result.functions.filter((f) => f.bytes > TARGET_BYTES);
  const overTime = result.functions.filter((f) => f.importMs.median > TARGET_IMPORT_MS);
  const rows = result.functions.map((f) => [
    f.name,
    fixed(f.bytes / 1000, 1),
    triple(f.importMs),
    `${f.sdkPackages.length} / ${f.sdkNeeded.length}`,
    fixed(f.sdkOnlyMs.median),
    fixed(f.sdkNeededMs.median),
  ]);
  const table = markdownTable(
    [
      'function',
      'bundle KB',
      'import ms min / median / max',
      'SDK packages imported / used',
      'imported SDK alone ms',
      'used SDK alone ms',
    ],
    rows,
    [false, true, true, true, true, true],
  );
  const allSdk = [...new Set(result.functions.flatMap((f) => f.sdkPackages))].sort();
  const sameSdk = result.functions.every((f) => f.sdkPackages.length === allSdk.length);
  const needed = result.functions.map((f) => f.sdkNeededMs.median);
  const imported = result.functions.map((f) => f.sdkOnlyMs.median);
  const stillOver = result.functions.filter((f) => f.sdkNeededMs.median > TARGET_IMPORT_MS);
  const verdict = (ok: boolean) => (ok ? 'met' : 'missed');
  return {
    id: 'P5',
    name: 'bundles',
    summary: `Lambda bundles: largest **${fixed(largest / 1000)} KB** (target ≤ ${TARGET_BYTES / 1000} KB: ${verdict(overSize.length === 0)}); slowest median cold import **${fixed(slowest)} ms** (target ≤ ${TARGET_IMPORT_MS} ms: ${verdict(overTime.length === 0)}), almost all of it the AWS SDK.`,
    section: (command) => `## P5 Lambda bundles and cold import

Each manifest entry bundled with esbuild exactly as \`lib/constructs/manifest-function.ts\` has
NodejsFunction bundle it (ESM, minified, \`@aws-sdk/*\` external, the \`createRequire\` banner, main
fields \`module,main\`, target \`${result.target}\`), then imported with \`await import()\` in a fresh
\`node\` process with the environment the stack sets: ${result.runs} rounds after one discarded round
that warms the page cache, min / median / max. \`@aws-sdk/*\` is not in the bundles (the Lambda
runtime provides it), but importing it is part of every cold start, so the bundles are imported
where the SDK resolves from this repository's \`node_modules\` and the times include it. In the same
rounds: "imported SDK alone" imports just the \`@aws-sdk\` packages the bundle imports; "used SDK
alone" just those its manifest entry says it uses (tables → DynamoDB, Safe bucket → S3,
\`@connections\` → API Gateway Management, secrets → Secrets Manager, codes → SES + SNS). An empty
module takes ${triple(result.emptyMs, 2)} ms (the floor). KB = 1000 bytes.

${machine(command)}

${table}

**Size: largest bundle ${fixed(largest / 1000)} KB — target ≤ ${TARGET_BYTES / 1000} KB ${verdict(overSize.length === 0)}${
      overSize.length ? ` (${overSize.map((f) => f.name).join(', ')})` : ''
    }. Import: slowest median ${fixed(slowest)} ms — target ≤ ${TARGET_IMPORT_MS} ms ${verdict(overTime.length === 0)}${
      overTime.length ? ` for ${overTime.length} of ${result.functions.length} functions` : ''
    }.**

What the import time is made of: ${
      sameSdk ? `every bundle imports the same ${allSdk.length}` : `the bundles import up to ${allSdk.length}`
    } SDK packages
(${allSdk.map((p) => `\`${p.replace('@aws-sdk/', '')}\``).join(', ')}), because
\`lambdas/runtime/clients.ts\` imports every client statically and each entry imports it; the
"imported SDK alone" column is close to the whole import time, so Switchyard's own code is a small
part of it. Importing only the packages each function uses would take ${fixed(Math.min(...needed))}–${fixed(Math.max(...needed))} ms
("used SDK alone", medians) instead of ${fixed(Math.min(...imported))}–${fixed(Math.max(...imported))} ms — the saving available from loading each client
where it is first used (e.g. \`await import()\` in the client getters, or one module per client);
${
  stillOver.length > 0
    ? `even then ${stillOver.length} of ${result.functions.length} functions stay above ${TARGET_IMPORT_MS} ms on this machine, because the DynamoDB client with its document client alone takes about that long to import here`
    : `that would bring every function under ${TARGET_IMPORT_MS} ms on this machine`
}. Measured on Node.js ${process.version} on this shared machine, not on the Lambda runtime
(\`${NODE_RUNTIME.name}\`, arm64), whose cold start adds the runtime's own start and code download and
whose CPU share at 256 MB is smaller.
`,
  };
}
