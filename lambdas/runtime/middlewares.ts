/**
 * The middy stack every handler runs in (lambdas/runtime/functions/*). Three small middlewares,
 * each with one job, none holding per-request state between invocations:
 *
 *   observe      times the request and writes its one allowlisted log line (lambdas/runtime/log.ts);
 *   errorReply   the `expose` rule: a thrown error becomes the route's documented error reply, and an
 *                unexposed error a generic `internal` (nothing of its message reaches the client);
 *   bodyLimit    size first: a body over the function's limit is refused before anything parses it.
 *
 * middy's own middlewares were the first choice and none fits: `http-error-handler` answers with the
 * error's message as plain text (Switchyard answers JSON `{error, message}` on HTTP and an error
 * frame on WebSocket), `input-output-logger` logs events and bodies (never allowed here), and
 * `http-event-normalizer`/`ws-json-body-parser` parse before the size check.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type {
  HttpEvent,
  HttpResult,
  StreamEvent,
  StreamResult,
  WsEvent,
  WsResult,
} from '../../contract/events.ts';
import { asSwitchyardError, ERROR_CODES, type SwitchyardError } from '../../protocol/errors.ts';
import { encodeErrorFrame } from '../../protocol/frames.ts';
import { checkBodySize, type RawHeaders, rawBodyByteLength } from '../../protocol/http.ts';
import type { Clock } from '../domain/clock.ts';
import type { Logger, Outcome } from './log.ts';

export interface ObserveDeps {
  readonly log: Logger;
  readonly clock: Clock;
}

/** The code a client may see: its own for exposed errors, `internal` for everything else. */
export function visibleCode(error: unknown): SwitchyardError['code'] {
  const known = asSwitchyardError(error);
  return known.expose ? known.code : 'internal';
}

function outcomeOf(status: number): Outcome {
  if (status >= 500) return 'error';
  return status >= 400 ? 'rejected' : 'ok';
}

/**
 * The JSON error body of an HTTP route. Never cacheable: a 404 for an identity or a backup is
 * cacheable by default in HTTP, and a cache would keep answering it after the identity exists.
 */
export function httpError(code: SwitchyardError['code'], headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode: ERROR_CODES[code].status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify({ error: code, message: ERROR_CODES[code].message }),
  };
}

/** Bytes of a body as API Gateway passes it (base64 for binary), computed without decoding. */
const bodyLength = (body: string | undefined | null, base64: boolean | undefined) =>
  rawBodyByteLength({ body: body ?? undefined, isBase64Encoded: base64 });

/** What `observe` reads from one kind of route: its route key, request size and reply. */
interface Shape<E, R> {
  route(event: E): string;
  bytesIn(event: E): number;
  reply(result: R | undefined): {
    readonly status?: number;
    readonly bytesOut?: number;
    readonly count?: number;
  };
}

const WS: Shape<WsEvent, WsResult> = {
  route: (event) => event.requestContext.routeKey,
  bytesIn: (event) => (event.body ? Buffer.byteLength(event.body) : 0),
  reply: (result) => ({
    status: result?.statusCode ?? 200,
    bytesOut: result?.body ? Buffer.byteLength(result.body) : 0,
  }),
};

const HTTP: Shape<HttpEvent, HttpResult> = {
  route: (event) => event.routeKey,
  bytesIn: (event) => bodyLength(event.body, event.isBase64Encoded),
  reply: (result) => ({
    status: result?.statusCode ?? 200,
    bytesOut: bodyLength(result?.body, result?.isBase64Encoded),
  }),
};

/**
 * Times a request and writes one log line when it ends, from the allowlist only: the route key
 * (API Gateway's, never a value the client chose), outcome, error code, status, duration, sizes.
 */
function observe<E, R>(deps: ObserveDeps, shape: Shape<E, R>, fixedRoute?: string): MiddlewareObj<E, R> {
  // Keyed by middy's request object, which is new for every invocation.
  const started = new WeakMap<object, number>();
  const route = (event: E) => fixedRoute ?? shape.route(event);
  const write = (request: Request<E, R>, code?: SwitchyardError['code']) => {
    const { status, bytesOut, count } = shape.reply(request.response ?? undefined);
    deps.log({
      route: route(request.event),
      outcome: status === undefined ? (code ? 'error' : 'ok') : outcomeOf(status),
      ...(code ? { code } : {}),
      ...(status === undefined ? {} : { status }),
      ...(count === undefined ? {} : { count }),
      durationMs: deps.clock.now() - (started.get(request) ?? deps.clock.now()),
      ...(fixedRoute ? {} : { bytesIn: shape.bytesIn(request.event), bytesOut }),
    });
  };
  return {
    before: (request) => {
      started.set(request, deps.clock.now());
    },
    after: (request) => write(request),
    onError: (request) => write(request, visibleCode(request.error)),
  };
}

/** The `expose` rule for WebSocket routes: an error frame for messages, a bare status on `$connect`. */
function wsErrorReply(): MiddlewareObj<WsEvent, WsResult> {
  return {
    onError: (request) => {
      const code = visibleCode(request.error);
      request.response =
        request.event.requestContext.eventType === 'MESSAGE'
          ? { statusCode: ERROR_CODES[code].status, body: encodeErrorFrame(code) }
          : { statusCode: ERROR_CODES[code].status };
    },
  };
}

/** The `expose` rule for HTTP routes: `{"error": code, "message": …}` with the code's status. */
function httpErrorReply(): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      request.response = httpError(visibleCode(request.error));
    },
  };
}

/** Size first (protocol/http.ts `checkBodySize`): a body over `maxBytes` is refused before any parsing. */
export function bodyLimit<E extends { body?: string | null; isBase64Encoded?: boolean; headers?: unknown }>(
  maxBytes: number,
): MiddlewareObj<E> {
  return {
    before: ({ event }) =>
      checkBodySize(
        {
          headers: event.headers as RawHeaders | undefined,
          body: event.body ?? undefined,
          isBase64Encoded: event.isBase64Encoded,
        },
        maxBytes,
      ),
  };
}

/** The stack of a WebSocket route: observe, the error rule, then the frame size limit. */
export function wsStack(deps: ObserveDeps, maxBytes: number): MiddlewareObj<WsEvent, WsResult>[] {
  return [observe(deps, WS), wsErrorReply(), bodyLimit<WsEvent>(maxBytes)];
}

/** The stack of an HTTP route: observe, the error rule, then the body size limit. */
export function httpStack(deps: ObserveDeps, maxBytes: number): MiddlewareObj<HttpEvent, HttpResult>[] {
  return [observe(deps, HTTP), httpErrorReply(), bodyLimit<HttpEvent>(maxBytes)];
}

/**
 * The stack of a scheduled job: one log line with what it did (the count it returns) and how long it
 * took; a failure is logged and thrown on, so Lambda counts and retries it.
 */
export function scheduleStack(deps: ObserveDeps, route: string): MiddlewareObj<unknown, number>[] {
  return [
    observe<unknown, number>(
      deps,
      { route: () => route, bytesIn: () => 0, reply: (count) => (count === undefined ? {} : { count }) },
      route,
    ),
  ];
}

/**
 * The stack of a stream function: one log line per batch with the records it reported failed (to be
 * tried again) as its count, and how long it took; a thrown failure is logged and thrown on, so the
 * whole batch is tried again.
 */
export function streamStack(deps: ObserveDeps, route: string): MiddlewareObj<StreamEvent, StreamResult>[] {
  return [
    observe<StreamEvent, StreamResult>(
      deps,
      {
        route: () => route,
        bytesIn: () => 0,
        reply: (result) => (result ? { count: result.batchItemFailures.length } : {}),
      },
      route,
    ),
  ];
}
