/**
 * Each function loads only what it uses: every manifest entry bundled exactly as `cdk deploy`
 * bundles it, then its imports read from esbuild's metafile. The AWS SDK packages it imports
 * statically must be exactly those its grants need at every cold start; those it imports with
 * `import()` exactly those only some requests or deployments need.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, FUNCTIONS } from '../../contract/manifest.ts';
import { sdkPackages } from '../../lambdas/runtime/sdk/packages.ts';
import { esbuildOptions, sdkImportsOf } from '../../lib/constructs/bundling.ts';

const out = mkdtempSync(join(tmpdir(), 'switchyard-bundles-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('function bundles', () => {
  it.each(FUNCTION_NAMES)('%s imports only the SDK packages its manifest entry uses', async (name) => {
    const result = await build(esbuildOptions(FUNCTIONS[name].entry, join(out, `${name}.mjs`)));
    expect(sdkImportsOf(result.metafile)).toEqual(sdkPackages(FUNCTIONS[name]));
  });
});
