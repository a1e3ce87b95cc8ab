/**
 * The WebSocket API, locally: connections on `/{stage}` become API Gateway WebSocket events for the
 * same handlers (`$connect` before the upgrade completes, one event per message, `$disconnect` after
 * close), with API Gateway's limits — message and frame size, idle timeout, connection lifetime —
 * and the `@connections` management API that handlers call to push to other connections. Mock
 * routes (the `echo` keep-alive) are answered by the gateway itself, as API Gateway's MOCK
 * integrations are: no event, no handler.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { WsEvent, WsHandler, WsResult } from '../contract/events.ts';

export interface WsLimits {
  readonly messageBytes: number;
  readonly frameBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
}

export interface WsApiOptions {
  readonly stage: string;
  readonly domainName: string;
  readonly limits: WsLimits;
  /** Route key → handler; must contain `$connect`, `$disconnect` and `$default`. */
  readonly routes: ReadonlyMap<string, WsHandler>;
  /** Route key → the frame the gateway answers with, no handler invoked (contract `MOCK_WS_ROUTES`). */
  readonly mockRoutes?: Readonly<Record<string, string>>;
  /** Invoked for every handler failure the gateway itself sees (the handler wrapper logs the rest). */
  readonly onError?: (error: unknown) => void;
  /**
   * Called with every connection id the gateway hands out, before `$connect` runs (tests collect
   * them to check that none reaches a log line). Local only: nothing like it exists on AWS.
   */
  readonly onConnection?: (connectionId: string) => void;
}

interface Live {
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  idle?: NodeJS.Timeout;
  lifetime?: NodeJS.Timeout;
}

/** Close codes API Gateway uses. */
export const CLOSE = { normal: 1000, goingAway: 1001, tooBig: 1009 } as const;

/** API Gateway-style connection ids: 12 random bytes, base64 (they contain `=`, `+` and `/`). */
function newConnectionId(): string {
  return randomBytes(12).toString('base64');
}

/**
 * Rejects any single frame larger than `frameBytes` the way ws rejects an oversize message (close
 * 1009). ws checks only the message total, so this wraps its receiver's per-frame length step.
 */
function limitFrames(socket: WebSocket, frameBytes: number): void {
  type Receiver = {
    _payloadLength: number;
    haveLength(cb: (error?: Error) => void): void;
    createError(
      type: typeof RangeError,
      message: string,
      prefix: boolean,
      code: number,
      errorCode: string,
    ): Error;
  };
  const receiver = (socket as unknown as { _receiver?: Receiver })._receiver;
  if (!receiver || typeof receiver.haveLength !== 'function')
    throw new Error('ws receiver internals changed');
  const original = receiver.haveLength.bind(receiver);
  receiver.haveLength = (cb) => {
    if (receiver._payloadLength > frameBytes) {
      cb(
        receiver.createError(
          RangeError,
          'Frame too large',
          false,
          CLOSE.tooBig,
          'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
        ),
      );
      return;
    }
    original(cb);
  };
}

export function createWsApi(options: WsApiOptions) {
  const { stage, domainName, limits, routes } = options;
  const connectHandler = routes.get('$connect');
  const disconnectHandler = routes.get('$disconnect');
  const defaultHandler = routes.get('$default');
  if (!connectHandler || !disconnectHandler || !defaultHandler)
    throw new Error('WebSocket routes incomplete');
  const mockRoutes = new Map(Object.entries(options.mockRoutes ?? {}));
  for (const key of mockRoutes.keys())
    if (routes.has(key) || key.startsWith('$'))
      throw new Error(`WebSocket route ${key} cannot be a mock route`);

  const server = new WebSocketServer({
    noServer: true,
    maxPayload: limits.messageBytes,
    perMessageDeflate: false,
  });
  const live = new Map<string, Live>();
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    promise.finally(() => inFlight.delete(promise)).catch(() => {});
    return promise;
  }

  function context(
    connectionId: string,
    connectedAt: number,
    routeKey: string,
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
  ) {
    const now = Date.now();
    return {
      routeKey,
      messageId: randomBytes(8).toString('base64'),
      eventType,
      extendedRequestId: randomUUID(),
      requestTime: new Date(now).toUTCString(),
      messageDirection: 'IN' as const,
      stage,
      connectedAt,
      requestTimeEpoch: now,
      requestId: randomUUID(),
      domainName,
      connectionId,
      apiId: 'local',
    };
  }

  async function invoke(handler: WsHandler, event: WsEvent): Promise<WsResult | undefined> {
    try {
      return await track(handler(event));
    } catch (error) {
      options.onError?.(error);
      return undefined;
    }
  }

  /**
   * API Gateway's route selection: the frame's `action` if a route has that key, else `$default`.
   * A mock route selects its constant reply instead of a handler.
   */
  function selectRoute(text: string | undefined): [string, WsHandler | string] {
    if (text !== undefined) {
      try {
        const action = (JSON.parse(text) as { action?: unknown }).action;
        if (typeof action === 'string' && !action.startsWith('$')) {
          const handler = routes.get(action) ?? mockRoutes.get(action);
          if (handler) return [action, handler];
        }
      } catch {
        // Not JSON: API Gateway sends it to $default.
      }
    }
    return ['$default', defaultHandler!];
  }

  function resetIdle(connectionId: string, entry: Live): void {
    entry.lastActiveAt = Date.now();
    clearTimeout(entry.idle);
    entry.idle = setTimeout(() => {
      if (live.get(connectionId) === entry) entry.socket.close(CLOSE.goingAway, 'Idle timeout');
    }, limits.idleTimeoutMs);
    entry.idle.unref();
  }

  async function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (closing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    const connectionId = newConnectionId();
    options.onConnection?.(connectionId);
    const connectedAt = Date.now();
    const url = new URL(request.url ?? '/', 'http://local');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const query = Object.fromEntries(url.searchParams);
    const connectEvent: WsEvent = {
      requestContext: context(connectionId, connectedAt, '$connect', 'CONNECT'),
      headers,
      ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
      isBase64Encoded: false,
    };
    const result = await invoke(connectHandler!, connectEvent);
    const status = result?.statusCode ?? 500;
    if (status < 200 || status > 299 || socket.destroyed) {
      socket.end(
        `HTTP/1.1 ${status === 500 || !result ? 500 : status} Rejected\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      if (status >= 200 && status <= 299)
        await invoke(disconnectHandler!, disconnectEvent(connectionId, connectedAt, 1006));
      return;
    }
    server.handleUpgrade(request, socket, head, (ws) => accept(ws, connectionId, connectedAt, request));
  }

  function disconnectEvent(connectionId: string, connectedAt: number, code: number, reason = ''): WsEvent {
    return {
      requestContext: {
        ...context(connectionId, connectedAt, '$disconnect', 'DISCONNECT'),
        disconnectStatusCode: code,
        disconnectReason: reason,
      } as WsEvent['requestContext'],
      isBase64Encoded: false,
    };
  }

  function accept(ws: WebSocket, connectionId: string, connectedAt: number, request: IncomingMessage): void {
    limitFrames(ws, limits.frameBytes);
    const entry: Live = {
      socket: ws,
      connectedAt,
      lastActiveAt: connectedAt,
      sourceIp: request.socket.remoteAddress ?? '',
      userAgent: String(request.headers['user-agent'] ?? ''),
    };
    live.set(connectionId, entry);
    resetIdle(connectionId, entry);
    entry.lifetime = setTimeout(
      () => ws.close(CLOSE.goingAway, 'Connection lifetime exceeded'),
      limits.maxLifetimeMs,
    );
    entry.lifetime.unref();

    ws.on('message', (data: RawData, isBinary: boolean) => {
      resetIdle(connectionId, entry);
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      const text = isBinary ? undefined : bytes.toString('utf8');
      const [routeKey, handler] = selectRoute(text);
      if (typeof handler === 'string') {
        // A mock route: the gateway answers at once, in order, and no handler runs.
        if (ws.readyState === WebSocket.OPEN) ws.send(handler);
        return;
      }
      const event: WsEvent = {
        requestContext: context(connectionId, connectedAt, routeKey, 'MESSAGE'),
        body: text ?? bytes.toString('base64'),
        isBase64Encoded: isBinary,
      };
      // As on API Gateway, messages are handled concurrently, each by its own invocation.
      void invoke(handler, event).then((reply) => {
        if (reply?.body !== undefined && ws.readyState === WebSocket.OPEN) ws.send(reply.body);
      });
    });
    ws.on('ping', () => resetIdle(connectionId, entry));
    ws.on('error', () => {
      // ws closes the socket itself (e.g. 1009 for an oversize frame); 'close' follows.
    });
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(entry.idle);
      clearTimeout(entry.lifetime);
      if (live.get(connectionId) === entry) live.delete(connectionId);
      void invoke(
        disconnectHandler!,
        disconnectEvent(connectionId, connectedAt, code, reason.toString('utf8')),
      );
    });
  }

  /**
   * `@connections`: `POST` sends the body to the connection, `GET` describes it, `DELETE` closes it.
   * A connection that is not open answers 410 with `x-amzn-errortype: GoneException`, which the
   * SDK turns into GoneException.
   */
  function handleManagement(
    request: IncomingMessage,
    response: ServerResponse,
    connectionId: string,
    /** undefined when the body was over the message limit. */
    body: Buffer | undefined,
  ): void {
    const entry = live.get(connectionId);
    const reply = (status: number, payload: unknown, errorType?: string) => {
      const text = payload === undefined ? '' : JSON.stringify(payload);
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      response.end(text);
    };
    if (!entry || entry.socket.readyState !== WebSocket.OPEN) {
      reply(410, { message: null }, 'GoneException');
      return;
    }
    if (request.method === 'POST') {
      if (body === undefined) reply(413, { message: 'Message too long' }, 'PayloadTooLargeException');
      else {
        entry.socket.send(body, { binary: !isUtf8(body) });
        reply(200, undefined);
      }
    } else if (request.method === 'GET') {
      reply(200, {
        connectedAt: new Date(entry.connectedAt).toISOString(),
        identity: { sourceIp: entry.sourceIp, userAgent: entry.userAgent },
        lastActiveAt: new Date(entry.lastActiveAt).toISOString(),
      });
    } else if (request.method === 'DELETE') {
      entry.socket.close(CLOSE.normal, 'Closed by the server');
      response.writeHead(204).end();
    } else {
      reply(405, { message: 'Method not allowed' });
    }
  }

  return {
    handleUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void handleUpgrade(request, socket, head).catch(() => socket.destroy());
    },
    handleManagement,
    /** Number of open connections. */
    get size() {
      return live.size;
    },
    /** Closes every connection (running their `$disconnect`) and waits for in-flight handlers. */
    async close(): Promise<void> {
      closing = true;
      for (const entry of live.values()) entry.socket.close(CLOSE.goingAway, 'Server shutting down');
      const deadline = Date.now() + 5000;
      while ((live.size > 0 || inFlight.size > 0) && Date.now() < deadline) {
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise((resolve) => setTimeout(resolve, 50)),
        ]);
      }
      for (const entry of live.values()) entry.socket.terminate();
      server.close();
    },
  };
}

export type WsApi = ReturnType<typeof createWsApi>;
