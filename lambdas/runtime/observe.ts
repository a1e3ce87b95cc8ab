/**
 * The shared wrapper every handler runs in: it times the call, turns any thrown error into the
 * route's documented error reply (unexposed errors become a generic `internal`), and writes one
 * allowlisted log line. It holds no per-request state between invocations.
 */

import type {
  HttpEvent,
  HttpHandler,
  HttpResult,
  WsEvent,
  WsHandler,
  WsResult,
} from '../../contract/events.ts';
import { asSwitchyardError, ERROR_CODES, type SwitchyardError } from '../../protocol/errors.ts';
import { encodeErrorFrame } from '../../protocol/frames.ts';
import type { Clock } from '../domain/clock.ts';
import type { Logger, Outcome } from './log.ts';

export interface ObserveDeps {
  readonly log: Logger;
  readonly clock: Clock;
}

function outcomeOf(status: number): Outcome {
  if (status >= 500) return 'error';
  return status >= 400 ? 'rejected' : 'ok';
}

/** The code a client may see: its own for exposed errors, `internal` for everything else. */
function visible(error: SwitchyardError): SwitchyardError['code'] {
  return error.expose ? error.code : 'internal';
}

/**
 * Wraps a WebSocket route. `$connect` rejects with a status; other routes answer with an error
 * frame. The logged route is API Gateway's route key, never a value the client chose.
 */
export function observeWs(deps: ObserveDeps, handler: WsHandler): WsHandler {
  return async (event: WsEvent): Promise<WsResult> => {
    const route = event.requestContext.routeKey;
    const started = deps.clock.now();
    const bytesIn = event.body ? Buffer.byteLength(event.body) : 0;
    let result: WsResult;
    let code: SwitchyardError['code'] | undefined;
    try {
      result = await handler(event);
    } catch (thrown) {
      const error = asSwitchyardError(thrown);
      code = visible(error);
      result =
        event.requestContext.eventType === 'MESSAGE'
          ? { statusCode: ERROR_CODES[code].status, body: encodeErrorFrame(code) }
          : { statusCode: ERROR_CODES[code].status };
    }
    deps.log({
      route,
      outcome: outcomeOf(result.statusCode),
      ...(code ? { code } : {}),
      status: result.statusCode,
      durationMs: deps.clock.now() - started,
      bytesIn,
      bytesOut: result.body ? Buffer.byteLength(result.body) : 0,
    });
    return result;
  };
}

/** The JSON error body of an HTTP route. */
export function httpError(code: SwitchyardError['code'], headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode: ERROR_CODES[code].status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ error: code, message: ERROR_CODES[code].message }),
  };
}

/** Wraps an HTTP route: thrown errors become `{"error": code, "message": …}` with the code's status. */
export function observeHttp(deps: ObserveDeps, handler: HttpHandler): HttpHandler {
  return async (event: HttpEvent): Promise<HttpResult> => {
    const route = event.routeKey;
    const started = deps.clock.now();
    let result: HttpResult;
    let code: SwitchyardError['code'] | undefined;
    try {
      result = await handler(event);
    } catch (thrown) {
      code = visible(asSwitchyardError(thrown));
      result = httpError(code);
    }
    const body = result.body ?? '';
    deps.log({
      route,
      outcome: outcomeOf(result.statusCode),
      ...(code ? { code } : {}),
      status: result.statusCode,
      durationMs: deps.clock.now() - started,
      bytesIn: event.body
        ? event.isBase64Encoded
          ? Math.floor((event.body.length * 3) / 4)
          : Buffer.byteLength(event.body)
        : 0,
      bytesOut: result.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body),
    });
    return result;
  };
}

/** Wraps a scheduled job: one allowlisted log line with what it did (a count) and how long it took. */
export function observeSchedule(
  deps: ObserveDeps,
  route: string,
  job: () => Promise<number>,
): () => Promise<void> {
  return async () => {
    const started = deps.clock.now();
    try {
      const count = await job();
      deps.log({ route, outcome: 'ok', count, durationMs: deps.clock.now() - started });
    } catch (thrown) {
      deps.log({
        route,
        outcome: 'error',
        code: visible(asSwitchyardError(thrown)),
        durationMs: deps.clock.now() - started,
      });
      throw thrown;
    }
  };
}
