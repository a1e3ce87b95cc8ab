/**
 * `npm run build` (run by `npm ci` and `npm install` through `prepare`): the two command-line tools
 * as plain JavaScript in dist/, so they start without compiling TypeScript on every run
 * (BENCHMARKS.md, CLI start-up). Each command is a chunk of its own, loaded when it runs; packages
 * stay imports from node_modules. The test run builds the same way first (test/support/global-setup.ts).
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

/** package.json `bin`: executable name → entry. */
export const CLI_ENTRIES = {
  switchyard: 'client/cli/bin.ts',
  'switchyard-ops': 'ops/bin.ts',
} as const;

/** Builds both executables into `outdir` (default dist/); returns esbuild's metafile. */
export async function buildCli(outdir = join(ROOT, 'dist')): Promise<Metafile> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: CLI_ENTRIES,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: '#!/usr/bin/env node' },
    metafile: true,
    logLevel: 'warning',
  });
  for (const name of Object.keys(CLI_ENTRIES)) chmodSync(join(outdir, `${name}.js`), 0o755);
  return result.metafile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildCli();
