/**
 * Builds the browser page: web/app.ts bundled by esbuild for browsers (package.json's `browser`
 * field swaps the SDK's Node primitives for pure-JS ones), next to web/index.html and web/style.css;
 * beside it the service worker (sw.js) and the vault client (vault.js, ~4× app.js for OPAQUE's
 * inlined WebAssembly), which the page imports only when someone uses a short-password backup.
 * The local runner serves the result at `/` (local/web.ts); for static hosting (S3 + CloudFront or
 * any web server) write it to a folder and add a config.json with the stack outputs:
 *
 *   npm run build:web -- web/dist        # then upload web/dist/ and a config.json (see README)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

/** The page's files by name: index.html, app.js, style.css, sw.js, vault.js. */
export type WebFiles = ReadonlyMap<string, { readonly type: string; readonly body: Uint8Array }>;

/** What the page needs to know about the backend; served as config.json next to it. */
export interface WebConfig {
  /** The HTTP API base (`HttpApiUrl`), e.g. `https://….execute-api.eu-central-1.amazonaws.com/`. */
  readonly httpUrl: string;
  /** The WebSocket URL (`WebSocketUrl`). */
  readonly wsUrl: string;
  /** The server's public key to pin (`ServerPublicKey`), 64 hex characters. */
  readonly serverPublicKey: string;
  /** The Safe base URL (`SafeUrl`); default `httpUrl` + `safe/`. */
  readonly safeUrl?: string;
}

export async function buildWeb(): Promise<WebFiles> {
  const [page, worker, vault] = await Promise.all([bundle('app.ts'), bundle('sw.ts'), bundle('vault.ts')]);
  const read = (name: string) => new Uint8Array(readFileSync(join(WEB_DIR, name)));
  return new Map([
    ['index.html', { type: 'text/html; charset=utf-8', body: read('index.html') }],
    ['style.css', { type: 'text/css; charset=utf-8', body: read('style.css') }],
    ['app.js', { type: 'text/javascript; charset=utf-8', body: page }],
    // The service worker (push wake-ups), next to the page so its scope is the page's folder.
    ['sw.js', { type: 'text/javascript; charset=utf-8', body: worker }],
    // The vault client (web/vault.ts), imported by app.js on demand from next to it.
    ['vault.js', { type: 'text/javascript; charset=utf-8', body: vault }],
  ]);
}

async function bundle(entry: string): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [join(WEB_DIR, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

// `tsx web/build.ts OUT_DIR`: write the files for static hosting.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(WEB_DIR, 'dist'));
  mkdirSync(out, { recursive: true });
  const files = await buildWeb();
  for (const [name, file] of files) writeFileSync(join(out, name), file.body);
  process.stdout.write(`web: wrote ${[...files.keys()].join(', ')}; add config.json (see README)\n`);
}
