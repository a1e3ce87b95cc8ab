/**
 * The browser page, served by the local runner at `/`: web/ bundled on first request (esbuild,
 * in memory), plus `/config.json` naming this runner's URLs and server key, so a newcomer needs no
 * setup. Only GET/HEAD of these paths are answered here; everything else goes to the routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildWeb, type WebConfig, type WebFiles } from '../web/build.ts';

const PATHS: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
  '/sw.js': 'sw.js',
  '/vault.js': 'vault.js',
};

/**
 * The page's Content-Security-Policy: scripts, styles and everything else from this origin only, and
 * connections to it and its WebSocket. `'wasm-unsafe-eval'` is the one addition to `'self'` for
 * scripts, and the narrowest there is: browsers refuse to compile WebAssembly under a policy without
 * it, and the vault client (vault.js: OPAQUE, `@serenity-kit/opaque`) compiles its module from bytes
 * it carries. It allows WebAssembly compilation only, not `eval` or `new Function` of JavaScript.
 * README, "The browser client on AWS", gives the same policy for CloudFront.
 */
function contentSecurityPolicy(config: WebConfig): string {
  const connect = ["'self'", new URL(config.wsUrl).origin, new URL(config.httpUrl).origin];
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src ${connect.join(' ')}`,
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Returns a request handler that answers the page's paths and returns false for anything else.
 * The page may talk only to this origin (and its WebSocket): a strict Content-Security-Policy.
 */
export function createWebPage(config: WebConfig) {
  let files: Promise<WebFiles> | undefined;
  const configBody = new TextEncoder().encode(JSON.stringify(config));
  const headers = {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': contentSecurityPolicy(config),
  };

  return async function serve(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = (request.url ?? '/').split('?')[0]!;
    let file: { type: string; body: Uint8Array } | undefined;
    if (path === '/config.json') file = { type: 'application/json', body: configBody };
    else if (PATHS[path]) {
      // Built once, on first use; a failed build is tried again on the next request.
      files ??= buildWeb().catch((error: unknown) => {
        files = undefined;
        throw error;
      });
      file = (await files).get(PATHS[path]);
    }
    if (!file) return false;
    response.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': file.body.length });
    response.end(request.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
