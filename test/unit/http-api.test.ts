import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpHandler } from '../../contract/events.ts';
import { buildHttpEvent, createRouter, isTextContentType } from '../../local/http-api.ts';

const handler = (name: string): HttpHandler =>
  Object.assign(async () => ({ statusCode: 200, body: name }), { label: name });

describe('local HTTP API router', () => {
  const match = createRouter([
    ['ANY /safe/{proxy+}', handler('proxy')],
    ['GET /safe/config', handler('config')],
    ['ANY /safe/backups/{id}', handler('backup-any')],
    ['PUT /safe/backups/{id}', handler('backup-put')],
  ]);

  it('prefers a literal route over a parameter route over a greedy one', () => {
    expect(match('GET', '/safe/config')?.routeKey).toBe('GET /safe/config');
    expect(match('GET', '/safe/backups/abc')?.routeKey).toBe('ANY /safe/backups/{id}');
    expect(match('GET', '/safe/other/thing')?.routeKey).toBe('ANY /safe/{proxy+}');
  });

  it('prefers a named method over ANY', () => {
    expect(match('PUT', '/safe/backups/abc')?.routeKey).toBe('PUT /safe/backups/{id}');
    expect(match('DELETE', '/safe/backups/abc')?.routeKey).toBe('ANY /safe/backups/{id}');
  });

  it('extracts and decodes path parameters, including the greedy remainder', () => {
    expect(match('GET', '/safe/backups/a%2Fb')?.pathParameters).toEqual({ id: 'a/b' });
    expect(match('GET', '/safe/x/y/z')?.pathParameters).toEqual({ proxy: 'x/y/z' });
  });

  it('matches nothing outside the routes, and a greedy route needs at least one segment', () => {
    expect(match('GET', '/other')).toBeUndefined();
    expect(match('GET', '/safe')).toBeUndefined();
    expect(match('POST', '/safe/config')?.routeKey).toBe('ANY /safe/{proxy+}');
  });
});

describe('payload format 2.0 events', () => {
  function request(headers: Record<string, string>, url = '/safe/backups/ab?x=1&x=2'): IncomingMessage {
    return {
      url,
      method: 'PUT',
      httpVersion: '1.1',
      headers,
      socket: new Socket(),
    } as unknown as IncomingMessage;
  }
  const matched = { routeKey: 'PUT /safe/backups/{id}', handler: handler('x'), pathParameters: { id: 'ab' } };

  it('passes binary bodies base64-encoded, byte for byte', () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const event = buildHttpEvent(
      request({ 'content-type': 'application/octet-stream' }),
      body,
      matched,
      0,
      'local',
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64').equals(body)).toBe(true);
  });

  it('passes text bodies as text', () => {
    const event = buildHttpEvent(
      request({ 'content-type': 'application/json; charset=utf-8' }),
      Buffer.from('{"a":1}'),
      matched,
      0,
      'local',
    );
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{"a":1}');
  });

  it('carries the route key, path parameters and comma-joined query values, and no cookies', () => {
    const event = buildHttpEvent(
      request({ cookie: 'a=b', 'user-agent': 'Threema' }),
      Buffer.alloc(0),
      matched,
      0,
      'local',
    );
    expect(event.routeKey).toBe('PUT /safe/backups/{id}');
    expect(event.requestContext.routeKey).toBe('PUT /safe/backups/{id}');
    expect(event.pathParameters).toEqual({ id: 'ab' });
    expect(event.queryStringParameters).toEqual({ x: '1,2' });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
  });

  it('knows which content types API Gateway treats as text', () => {
    expect(isTextContentType('text/plain')).toBe(true);
    expect(isTextContentType('application/problem+json')).toBe(true);
    expect(isTextContentType('application/octet-stream')).toBe(false);
    expect(isTextContentType(undefined)).toBe(false);
  });
});
