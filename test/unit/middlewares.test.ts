/**
 * The middy stack every HTTP and WebSocket function runs in (lambdas/runtime/middlewares.ts), with a
 * core that answers or throws as a route would: the error replies, size first, and the log line.
 */
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import type { HttpEvent, HttpResult, WsEvent, WsResult } from '../../contract/events.ts';
import type { LogFields } from '../../lambdas/runtime/log.ts';
import { httpStack, wsStack } from '../../lambdas/runtime/middlewares.ts';
import { SwitchyardError } from '../../protocol/errors.ts';

const context = {} as never;

function stackWith<E, R>(
  stack: (deps: { log: (f: LogFields) => void; clock: { now: () => number } }) => unknown,
) {
  const lines: LogFields[] = [];
  let now = 1_000;
  const deps = { log: (fields: LogFields) => lines.push(fields), clock: { now: () => (now += 5) } };
  const use = (core: (event: E) => Promise<R>) =>
    middy(core).use(stack(deps) as never) as unknown as (event: E, context: never) => Promise<R>;
  return { lines, use };
}

const httpEvent = (body?: string, headers: Record<string, string> = {}): HttpEvent =>
  ({ routeKey: 'POST /directory/{proxy+}', headers, body, isBase64Encoded: false }) as unknown as HttpEvent;

describe('the HTTP stack', () => {
  it('answers every refusal as JSON that no cache keeps, with the code status', async () => {
    for (const code of ['not_found', 'method_not_allowed', 'bad_request', 'unauthorized'] as const) {
      const { use } = stackWith<HttpEvent, HttpResult>((deps) => httpStack(deps, 64));
      const result = await use(async () => {
        throw new SwitchyardError(code);
      })(httpEvent(), context);
      expect(result.headers).toMatchObject({
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      expect(JSON.parse(result.body as string).error).toBe(code);
    }
  });

  it('refuses a body over the limit before the handler runs, by declared or actual size', async () => {
    const { use, lines } = stackWith<HttpEvent, HttpResult>((deps) => httpStack(deps, 64));
    let ran = 0;
    const handler = use(async () => {
      ran++;
      return { statusCode: 200, body: '{}' };
    });
    const declared = await handler(httpEvent('{}', { 'content-length': '65' }), context);
    const actual = await handler(httpEvent('x'.repeat(65)), context);
    const fits = await handler(httpEvent('x'.repeat(64)), context);
    expect([declared.statusCode, actual.statusCode, fits.statusCode]).toEqual([413, 413, 200]);
    expect(declared.headers).toMatchObject({ 'cache-control': 'no-store' });
    expect(ran).toBe(1);
    expect(lines.map((line) => line.code)).toEqual(['too_large', 'too_large', undefined]);
  });

  it('answers an unexposed error as a generic internal error and logs it as one, without its message', async () => {
    const { use, lines } = stackWith<HttpEvent, HttpResult>((deps) => httpStack(deps, 64));
    const result = await use(async () => {
      throw new Error('table ABCD2345 is on fire');
    })(httpEvent(), context);
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('ABCD2345');
    expect(lines).toEqual([
      expect.objectContaining({
        route: 'POST /directory/{proxy+}',
        outcome: 'error',
        code: 'internal',
        status: 500,
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('ABCD2345');
  });
});

describe('the WebSocket stack', () => {
  const wsEvent = (body: string, eventType = 'MESSAGE'): WsEvent =>
    ({ requestContext: { routeKey: 'send', eventType, connectionId: 'conn-1' }, body }) as unknown as WsEvent;

  it('answers a refused frame with an error frame, and $connect with a bare status', async () => {
    const { use, lines } = stackWith<WsEvent, WsResult>((deps) => wsStack(deps, 64));
    const handler = use(async () => {
      throw new SwitchyardError('rate_limited');
    });
    const message = await handler(wsEvent('{}'), context);
    expect(message.statusCode).toBe(429);
    expect(JSON.parse(message.body as string)).toMatchObject({ action: 'error', code: 'rate_limited' });
    const connect = await handler(wsEvent('', 'CONNECT'), context);
    expect(connect).toEqual({ statusCode: 429 });
    expect(lines.map((line) => [line.route, line.outcome, line.durationMs])).toEqual([
      ['send', 'rejected', 5],
      ['send', 'rejected', 5],
    ]);
    expect(JSON.stringify(lines)).not.toContain('conn-1');
  });
});
