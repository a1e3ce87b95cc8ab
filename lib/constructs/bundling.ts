/**
 * How every Switchyard function is bundled, in one place: the esbuild options the CDK app's local
 * bundling runs (manifest-function.ts), which the P5 benchmark and the bundle test use to build
 * exactly what `cdk deploy` uploads, and what a bundle loads at cold start.
 *
 * The AWS SDK is bundled, not taken from the Lambda runtime, and the bundle is split: `index.mjs`
 * and the chunks it imports statically are what a cold start loads; code reached only through
 * `import()` (the SDK's credential providers other than the environment's, the clients a function
 * needs on first use) is in chunks loaded when first needed. Measured on Node.js 24 (BENCHMARKS.md
 * P5), the runtime's own SDK costs more to load than the whole split bundle: its CommonJS build
 * compiles every command and protocol, and every credential provider, at the first import.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync, type Metafile } from 'esbuild';
import { WIRING } from '../../contract/settings.ts';

/** The repository root: manifest entries are relative to it, and its package-lock.json pins the bundle. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The newest Node.js Lambda runtime this aws-cdk-lib offers. Pinned rather than NODEJS_LATEST so a
 * CDK upgrade never changes the runtime of deployed functions behind the operator's back.
 */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;

/** The runtime's Node.js major version (24 for `nodejs24.x`). */
export const NODE_MAJOR = Number(/nodejs(\d+)/.exec(NODE_RUNTIME.name)?.[1]);

/** The file Lambda loads: `index.mjs` (ESM), exporting `handler`. */
export const BUNDLE_ENTRY_FILE = 'index.mjs';
export const BUNDLE_HANDLER = 'index.handler';

/**
 * Globals that bundled code sees as `undefined`. OPAQUE's WebAssembly loader (wasm-bindgen glue)
 * tests `typeof Request` and `typeof Response` in case it is handed a fetch() request or response;
 * in Node.js the first touch of either loads undici, about a quarter of the vault's cold import
 * (146 → 110 ms median on Node.js 24, measured 2026-12-03). The vault hands it bytes, never either.
 * test/infra/bundles.test.ts fails if any other code in any bundle uses these globals, and runs
 * OPAQUE bundled this way.
 */
export const UNDEFINED_GLOBALS = ['Request', 'Response'] as const;

/** CommonJS dependencies bundled into ESM may still call require(). */
const BUNDLE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * esbuild options for `entry` (absolute, or relative to the repository root) bundled into `outdir`:
 * `index.mjs` and its chunks.
 */
export function esbuildOptions(entry: string, outdir: string) {
  return {
    entryPoints: { index: resolve(REPO_ROOT, entry) },
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    target: `node${NODE_MAJOR}`,
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    // The SDK's ES module builds: tree-shaken, and their `import()`s become chunks of their own.
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    banner: { js: BUNDLE_BANNER },
    define: Object.fromEntries(UNDEFINED_GLOBALS.map((name) => [name, 'undefined'])),
    // Metafile paths relative to the repository root, wherever the build runs from.
    absWorkingDir: REPO_ROOT,
    metafile: true,
    logLevel: 'silent',
  } as const satisfies BuildOptions;
}

/** Bundles `entry` into `outdir` as `cdk deploy` does (synchronously, as CDK's local bundling runs). */
export function bundleSync(entry: string, outdir: string): Metafile {
  const { metafile } = buildSync(esbuildOptions(entry, outdir));
  if (!metafile) throw new Error('esbuild returned no metafile');
  return metafile;
}

/**
 * The output files of a bundle, each path as esbuild's metafile keys it (relative to the working
 * directory), split into those a cold start loads — the entry's output and every chunk reached from
 * it through static imports — and those loaded only by an `import()` when first needed.
 */
export function outputsByLoad(metafile: Metafile): { atLoad: string[]; onFirstUse: string[] } {
  const outputs = metafile.outputs;
  // Every target of an `import()` is an entry point of its own too: the function's is index.mjs.
  const entry = Object.keys(outputs).find((path) => path.split('/').pop() === BUNDLE_ENTRY_FILE);
  if (!entry) throw new Error('the bundle has no entry output');
  const atLoad = new Set<string>();
  const visit = (path: string) => {
    if (atLoad.has(path)) return;
    atLoad.add(path);
    for (const imported of outputs[path]?.imports ?? [])
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
  };
  visit(entry);
  const onFirstUse = Object.keys(outputs).filter((path) => !atLoad.has(path) && !path.endsWith('.map'));
  return { atLoad: [...atLoad].sort(), onFirstUse: onFirstUse.sort() };
}

/**
 * The package a metafile input path comes from: its name and the folder it was installed in (the
 * innermost `node_modules`, so a copy npm nested under another package has a folder of its own), or
 * undefined for the project's own files.
 */
export function packageOf(input: string): { name: string; folder: string } | undefined {
  const match = /^((?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
  return match ? { folder: match[1]!, name: match[2]! } : undefined;
}

/**
 * Which of the `watched` AWS SDK packages a bundle loads at cold start, and which only on first use
 * (in no chunk a cold start loads); each sorted. Read from esbuild's metafile.
 */
export function sdkImportsOf(
  metafile: Metafile,
  watched: readonly string[],
): { atLoad: string[]; onFirstUse: string[] } {
  const byLoad = outputsByLoad(metafile);
  const packagesIn = (paths: readonly string[]) =>
    new Set(
      paths.flatMap((path) =>
        Object.keys(metafile.outputs[path]?.inputs ?? {})
          .map((input) => packageOf(input)?.name)
          .filter((name): name is string => name !== undefined && watched.includes(name)),
      ),
    );
  const atLoad = packagesIn(byLoad.atLoad);
  const onFirstUse = [...packagesIn(byLoad.onFirstUse)].filter((name) => !atLoad.has(name));
  return { atLoad: [...atLoad].sort(), onFirstUse: onFirstUse.sort() };
}

/** Bytes of a bundle's output files, those a cold start loads and all of them (what is uploaded). */
export function bundleBytes(metafile: Metafile): { atLoad: number; total: number } {
  const byLoad = outputsByLoad(metafile);
  const bytes = (paths: readonly string[]) =>
    paths.reduce((sum, path) => sum + (metafile.outputs[path]?.bytes ?? 0), 0);
  return { atLoad: bytes(byLoad.atLoad), total: bytes([...byLoad.atLoad, ...byLoad.onFirstUse]) };
}

/**
 * An environment like the one the stack gives every function, with fake values: enough for any
 * entry to parse its configuration at cold start outside Lambda (the P5 benchmark, the bundle
 * test). Derived from contract/settings.ts WIRING, so every table, bucket and secret is there.
 */
export function fakeLambdaEnvironment(): Record<string, string> {
  return {
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
}
