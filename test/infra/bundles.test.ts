/**
 * Each function loads only what it uses: every manifest entry bundled exactly as `cdk deploy`
 * bundles it (the AWS SDK inside, split into chunks), then read from esbuild's metafile. The AWS SDK
 * packages in the code a cold start loads must be exactly those its grants need at every cold
 * start; those only in chunks loaded by `import()` exactly those only some requests or deployments
 * need. The OPAQUE library (422 KB, 413 KB of it inlined WebAssembly) is in the vault's bundle
 * and no other, and is the only code in any bundle that reads the globals the bundles define away
 * (UNDEFINED_GLOBALS), and still works bundled so. No bundle holds two copies of one package.
 * And the CDK app's own bundling writes a function that Node.js loads: its entry and chunks import,
 * and it exports the handler.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { build, type Metafile } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../../contract/manifest.ts';
import { SDK_PACKAGES, sdkPackages } from '../../lambdas/runtime/sdk/packages.ts';
import {
  BUNDLE_ENTRY_FILE,
  esbuildOptions,
  fakeLambdaEnvironment,
  outputsByLoad,
  packageOf,
  REPO_ROOT,
  sdkImportsOf,
  UNDEFINED_GLOBALS,
} from '../../lib/constructs/bundling.ts';
import { bundledFunction } from '../../lib/constructs/manifest-function.ts';

const out = mkdtempSync(join(tmpdir(), 'switchyard-bundles-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Each entry's bundle metafile, built once for all the checks. */
const builds = new Map<FunctionName, Promise<Metafile>>();
function bundle(name: FunctionName): Promise<Metafile> {
  let metafile = builds.get(name);
  if (!metafile) {
    metafile = build(esbuildOptions(FUNCTIONS[name].entry, join(out, name))).then(
      (result) => result.metafile,
    );
    builds.set(name, metafile);
  }
  return metafile;
}

/**
 * The packages a bundle holds more than one copy of: for each package name, the folders its bundled
 * files come from, where there are two or more.
 */
function packagesBundledTwice(metafile: Metafile): string[] {
  const folders = new Map<string, Set<string>>();
  for (const input of Object.keys(metafile.inputs)) {
    const found = packageOf(input);
    if (found) folders.set(found.name, (folders.get(found.name) ?? new Set()).add(found.folder));
  }
  return [...folders]
    .filter(([, found]) => found.size > 1)
    .map(([name, found]) => `${name}: ${[...found].sort().join(', ')}`)
    .sort();
}

describe('function bundles', () => {
  it.each(FUNCTION_NAMES)(
    '%s loads at cold start only the SDK packages its manifest entry uses',
    async (name) => {
      const metafile = await bundle(name);
      expect(sdkImportsOf(metafile, SDK_PACKAGES)).toEqual(sdkPackages(FUNCTIONS[name]));
    },
  );

  it.each(FUNCTION_NAMES)('%s bundles the OPAQUE library only if it is the vault', async (name) => {
    const metafile = await bundle(name);
    const opaque = Object.keys(metafile.inputs).filter((path) => path.includes('@serenity-kit/opaque'));
    expect(opaque.length > 0).toBe(name === 'vault');
  });

  it.each(FUNCTION_NAMES)('%s bundles one copy of each package', async (name) => {
    // A package that npm installed twice (a dependency pinning another version of it, as
    // @aws-sdk/s3-presigned-post pins @aws-sdk/client-s3) is compiled twice at every cold start.
    expect(packagesBundledTwice(await bundle(name))).toEqual([]);
  });

  it('keeps the SDK credential providers a Lambda does not use out of the code a cold start loads', async () => {
    // Lambda hands credentials in the environment; SSO, profiles, IMDS and STS are the default
    // chain's later links, reached by `import()` only if the environment has none.
    const metafile = await bundle('wsSend');
    const { atLoad, onFirstUse } = outputsByLoad(metafile);
    const inputsOf = (paths: string[]) =>
      paths.flatMap((path) => Object.keys(metafile.outputs[path]?.inputs ?? {}));
    const lazy = [
      'credential-provider-sso',
      'credential-provider-ini',
      'credential-provider-imds',
      'nested-clients',
    ];
    for (const name of lazy) {
      expect(inputsOf(atLoad).some((input) => input.includes(`/${name}/`))).toBe(false);
      expect(inputsOf(onFirstUse).some((input) => input.includes(`/${name}/`))).toBe(true);
    }
  });
});

describe('globals the bundles see as undefined', () => {
  /**
   * The modules (esbuild's `// path` comments of an unminified build) whose code reads any of
   * UNDEFINED_GLOBALS in any function's bundle: all entries built at once (each one's modules are in
   * that build, as in its own), each global replaced by a marker, which is then found in the output.
   */
  async function modulesReading(): Promise<string[]> {
    const dir = join(out, 'globals');
    const markers = Object.fromEntries(UNDEFINED_GLOBALS.map((global) => [global, `__global_${global}__`]));
    const entryPoints = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, join(REPO_ROOT, FUNCTIONS[name].entry)]),
    );
    await build({
      ...esbuildOptions(FUNCTIONS.vault.entry, dir),
      entryPoints,
      minify: false,
      define: markers,
    });
    const modules = new Set<string>();
    for (const file of readdirSync(dir)) {
      let module = '(bundle prelude)';
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        const comment = /^\/\/ (\S+\.[a-z]+)$/.exec(line);
        if (comment) module = comment[1]!;
        else if (Object.values(markers).some((marker) => line.includes(marker))) modules.add(module);
      }
    }
    return [...modules].sort();
  }

  it('only OPAQUE reads Request or Response, in every function', async () => {
    const modules = await modulesReading();
    expect(modules.filter((module) => !module.startsWith('node_modules/@serenity-kit/opaque/'))).toEqual([]);
    // The check sees what it looks for: the vault bundles OPAQUE, whose loader reads both.
    expect(modules.length).toBeGreaterThan(0);
  });

  it('leaves OPAQUE working: bundled alike, it makes a server setup in a fresh process', async () => {
    const dir = join(out, 'opaque-check');
    const source = join(out, 'opaque-check.mjs');
    writeFileSync(
      source,
      "import * as opaque from '@serenity-kit/opaque';\nawait opaque.ready;\nprocess.stdout.write(opaque.server.createSetup());\n",
    );
    // Resolved from the repository, as the vault's own import is.
    await build({ ...esbuildOptions(source, dir), nodePaths: [join(REPO_ROOT, 'node_modules')] });
    const { stdout } = await promisify(execFile)(process.execPath, [join(dir, BUNDLE_ENTRY_FILE)]);
    expect(stdout).toMatch(/^[A-Za-z0-9_-]{100,}$/);
  });
});

describe("the CDK app's bundling", () => {
  it('writes index.mjs and its chunks, which Node.js loads, exporting the handler', async () => {
    const outdir = join(out, 'cdk.out');
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundleCheck');
    bundledFunction(stack, {
      description: 'wsConnect',
      entry: join(REPO_ROOT, FUNCTIONS.wsConnect.entry),
      projectRoot: REPO_ROOT,
      logRetentionDays: RetentionDays.ONE_DAY,
    });
    app.synth();
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    const hash = /^([0-9a-f]{64})\.zip$/.exec(fn?.Properties.Code.S3Key)?.[1];
    const asset = join(outdir, `asset.${hash}`);
    expect(fn?.Properties.Handler).toBe('index.handler');
    expect(existsSync(join(asset, BUNDLE_ENTRY_FILE))).toBe(true);
    expect(readdirSync(asset).filter((file) => file.startsWith('chunk-')).length).toBeGreaterThan(0);
    // A fresh process, as Lambda's runtime imports the handler at cold start.
    const script = 'const m = await import(process.argv[1]); process.stdout.write(typeof m.handler);';
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, pathToFileURL(join(asset, BUNDLE_ENTRY_FILE)).href],
      { env: { PATH: process.env.PATH ?? '', ...fakeLambdaEnvironment() } },
    );
    expect(stdout).toBe('function');
  });
});
