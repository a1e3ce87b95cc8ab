/**
 * The runner's one HTTP server on 127.0.0.1, standing in for both API Gateways: `/health`, the
 * browser page at `/`, the HTTP API's routes, the WebSocket API on `/{WS_STAGE}` and its
 * `@connections` management API. It listens before anything else starts, so a taken port is
 * reported first; until the handlers are attached it answers 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HttpHandler, WsHandler } from '../contract/events.ts';
import {
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  MOCK_WS_ROUTES,
  WS_STAGE,
} from '../contract/manifest.ts';
import type { Built } from '../lambdas/runtime/functions/index.ts';
import { LIMITS } from '../protocol/limits.ts';
import { buildHttpEvent, createRouter, writeHttpResult } from './http-api.ts';
import { createWebPage } from './web.ts';
import { createWsApi, type WsLimits } from './ws-api.ts';

export const HOST = '127.0.0.1';

export class PortInUseError extends Error {
  constructor(port: number) {
    super(
      `Port ${port} on 127.0.0.1 is already in use. Stop whatever holds it, or start with PORT=<another port>.`,
    );
    this.name = 'PortInUseError';
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error);
    server.once('error', onError);
    server.listen(port, HOST, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Reads a request body, refusing (without buffering) anything over `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** What the gateway serves once the handlers are built. */
export interface GatewayRoutes {
  readonly built: Readonly<Record<FunctionName, Built>>;
  readonly wsLimits: WsLimits;
  /** The browser page's configuration. */
  readonly page: { readonly serverPublicKey: string };
  /** See WsApiOptions.onConnection. */
  readonly onConnection?: (connectionId: string) => void;
  /** The media bucket's proxy (local/media-proxy.ts): answers requests under `/{bucket}`, else false. */
  readonly media?: (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;
}

export interface Gateway {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly safeUrl: string;
  /** The `@connections` endpoint handlers post to. */
  readonly managementEndpoint: string;
  /** Starts serving the handlers' routes; returns how to close the WebSocket API. */
  attach(routes: GatewayRoutes): { close(): Promise<void> };
  /** What `/health` answers: 200 when ready, 503 while starting or stopping. */
  setReady(ready: boolean): void;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

export async function openGateway(requestedPort: number): Promise<Gateway> {
  let ready = false;
  let route: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | undefined;
  const http = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    // Until ready the gateway answers itself; then `GET /health` is the deployment's own health
    // route (it reaches DynamoDB and S3), as on AWS.
    if (path === '/health' && (request.method === 'HEAD' || !ready || !route)) {
      return json(response, ready ? 200 : 503, { status: ready ? 'ok' : 'starting' });
    }
    if (!route) return json(response, 503, { message: 'Service Unavailable' });
    route(request, response).catch(() => {
      if (!response.headersSent) json(response, 500, { message: 'Internal Server Error' });
      else response.destroy();
    });
  });
  http.keepAliveTimeout = 5000;
  const port = await listen(http, requestedPort);
  const origin = `http://${HOST}:${port}`;
  const urls = {
    httpUrl: `${origin}/`,
    wsUrl: `ws://${HOST}:${port}/${WS_STAGE}`,
    safeUrl: `${origin}/safe/`,
  };

  const attach = ({ built, wsLimits, page, onConnection, media }: GatewayRoutes) => {
    const wsRoutes = new Map<string, WsHandler>();
    const httpRoutes: Array<[string, HttpHandler]> = [];
    for (const name of FUNCTION_NAMES) {
      const fn = built[name];
      const spec = FUNCTIONS[name];
      for (const key of spec.wsRoutes as readonly string[])
        if (fn.kind === 'ws') wsRoutes.set(key, fn.handler);
      for (const key of spec.httpRoutes as readonly string[])
        if (fn.kind === 'http') httpRoutes.push([key, fn.handler]);
    }
    const wsApi = createWsApi({
      stage: WS_STAGE,
      domainName: `${HOST}:${port}`,
      limits: wsLimits,
      routes: wsRoutes,
      mockRoutes: MOCK_WS_ROUTES,
      ...(onConnection ? { onConnection } : {}),
    });
    const match = createRouter(httpRoutes);
    const managementPrefix = `/${WS_STAGE}/@connections/`;
    // The browser page at `/`, configured with this runner's URLs and server key.
    const webPage = createWebPage({ ...urls, serverPublicKey: page.serverPublicKey });

    http.on('upgrade', (request, socket, head) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === `/${WS_STAGE}`) return wsApi.handleUpgrade(request, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });

    route = async (request, response) => {
      const method = request.method ?? 'GET';
      const path = (request.url ?? '/').split('?')[0]!;
      if (await webPage(request, response)) return;
      // Presigned media URLs: blob bytes go between the client and the bucket, never to a handler.
      if (media && (await media(request, response))) return;
      if (path.startsWith(managementPrefix)) {
        const body = await readBody(request, wsLimits.messageBytes);
        let connectionId: string;
        try {
          connectionId = decodeURIComponent(path.slice(managementPrefix.length));
        } catch {
          return json(response, 400, { message: 'Invalid connection id' });
        }
        return wsApi.handleManagement(request, response, connectionId, body);
      }
      const matched = match(method, path);
      if (!matched) return json(response, 404, { message: 'Not Found' });
      const body = await readBody(request, LIMITS.httpBodyBytes);
      // API Gateway refuses bodies over its payload limit before invoking anything.
      if (body === undefined)
        return json(response, 413, { message: 'Request Entity Too Large' }, { connection: 'close' });
      const event = buildHttpEvent(request, body, matched, Date.now(), `${HOST}:${port}`);
      writeHttpResult(response, await matched.handler(event), method);
    };
    return { close: () => wsApi.close() };
  };

  return {
    port,
    ...urls,
    managementEndpoint: `${origin}/${WS_STAGE}`,
    attach,
    setReady: (value) => {
      ready = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
