/**
 * Builds the browser page: web/app.ts bundled by esbuild for browsers (package.json's `browser`
 * field swaps the SDK's Node primitives for pure-JS ones), next to web/index.html and web/style.css.
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

/** The page's files by name: index.html, app.js, style.css, sw.js. */
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
  const [page, worker] = await Promise.all([bundle('app.ts'), bundle('sw.ts')]);
  const read = (name: string) => new Uint8Array(readFileSync(join(WEB_DIR, name)));
  return new Map([
    ['index.html', { type: 'text/html; charset=utf-8', body: read('index.html') }],
    ['style.css', { type: 'text/css; charset=utf-8', body: read('style.css') }],
    ['app.js', { type: 'text/javascript; charset=utf-8', body: page }],
    // The service worker (push wake-ups), next to the page so its scope is the page's folder.
    ['sw.js', { type: 'text/javascript; charset=utf-8', body: worker }],
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
  for (const [name, file] of await buildWeb()) writeFileSync(join(out, name), file.body);
  process.stdout.write(`web: wrote index.html, app.js, sw.js and style.css; add config.json (see README)\n`);
}
