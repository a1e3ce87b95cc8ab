/**
 * Each function loads only what it uses: every manifest entry bundled exactly as `cdk deploy`
 * bundles it, then its imports read from esbuild's metafile. The AWS SDK packages it imports
 * statically must be exactly those its grants need at every cold start; those it imports with
 * `import()` exactly those only some requests or deployments need. The OPAQUE library (422 KB of
 * inlined WebAssembly) is in the vault's bundle and no other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, FUNCTIONS, type FunctionName } from '../../contract/manifest.ts';
import { sdkPackages } from '../../lambdas/runtime/sdk/packages.ts';
import { esbuildOptions, sdkImportsOf } from '../../lib/constructs/bundling.ts';

const out = mkdtempSync(join(tmpdir(), 'switchyard-bundles-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Each entry's bundle metafile, built once for all the checks. */
const builds = new Map<FunctionName, Promise<Metafile>>();
function bundle(name: FunctionName): Promise<Metafile> {
  let metafile = builds.get(name);
  if (!metafile) {
    metafile = build(esbuildOptions(FUNCTIONS[name].entry, join(out, `${name}.mjs`))).then(
      (result) => result.metafile,
    );
    builds.set(name, metafile);
  }
  return metafile;
}

describe('function bundles', () => {
  it.each(FUNCTION_NAMES)('%s imports only the SDK packages its manifest entry uses', async (name) => {
    const metafile = await bundle(name);
    expect(sdkImportsOf(metafile)).toEqual(sdkPackages(FUNCTIONS[name]));
  });

  it.each(FUNCTION_NAMES)('%s bundles the OPAQUE library only if it is the vault', async (name) => {
    const metafile = await bundle(name);
    const opaque = Object.keys(metafile.inputs).filter((path) => path.includes('@serenity-kit/opaque'));
    expect(opaque.length > 0).toBe(name === 'vault');
  });
});
