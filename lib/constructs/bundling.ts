/**
 * How every Switchyard function is bundled, in one place: NodejsFunction's bundling props
 * (manifest-function.ts) and the same options as esbuild's own API spells them, which the P5
 * benchmark and the bundle test use to build exactly what `cdk deploy` uploads.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions, Metafile } from 'esbuild';

/** The repository root: manifest entries are relative to it, and its package-lock.json pins the bundle. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The newest Node.js Lambda runtime this aws-cdk-lib offers. Pinned rather than NODEJS_LATEST so a
 * CDK upgrade never changes the runtime of deployed functions behind the operator's back.
 */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;

/** The runtime's Node.js major version (24 for `nodejs24.x`). */
export const NODE_MAJOR = Number(/nodejs(\d+)/.exec(NODE_RUNTIME.name)?.[1]);

/** CommonJS dependencies bundled into ESM may still call require(). */
export const BUNDLE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];
/** The Lambda Node.js runtime ships AWS SDK v3: it is imported from there, not bundled. */
export const BUNDLE_EXTERNAL = ['@aws-sdk/*'];

/** esbuild options equal to NodejsFunction's bundling of `entry` (relative to the repository root). */
export function esbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: `node${NODE_MAJOR}`,
    format: 'esm',
    mainFields: BUNDLE_MAIN_FIELDS,
    minify: true,
    sourcemap: false,
    external: BUNDLE_EXTERNAL,
    banner: { js: BUNDLE_BANNER },
    metafile: true,
    logLevel: 'silent',
  } as const satisfies BuildOptions;
}

/**
 * The AWS SDK packages a bundle imports (they stay external): statically, loaded with the function,
 * and with `import()`, loaded on first use; each sorted. Read from esbuild's metafile.
 */
export function sdkImportsOf(metafile: Metafile): { atLoad: string[]; onFirstUse: string[] } {
  const atLoad = new Set<string>();
  const onFirstUse = new Set<string>();
  for (const input of Object.values(metafile.inputs))
    for (const imported of input.imports)
      if (imported.external && imported.path.startsWith('@aws-sdk/'))
        (imported.kind === 'dynamic-import' ? onFirstUse : atLoad).add(imported.path);
  return { atLoad: [...atLoad].sort(), onFirstUse: [...onFirstUse].sort() };
}
