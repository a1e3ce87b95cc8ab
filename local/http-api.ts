/**
 * The HTTP API, locally: route matching with API Gateway's rules and the payload-format-2.0 event
 * and result mapping, so HTTP handlers see what they would see behind API Gateway.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEvent, HttpHandler, HttpResult } from '../contract/events.ts';

interface CompiledRoute {
  readonly routeKey: string;
  readonly method: string;
  readonly segments: readonly string[];
  readonly greedy: boolean;
  readonly handler: HttpHandler;
  readonly rank: number;
}

export interface RouteMatch {
  readonly routeKey: string;
  readonly handler: HttpHandler;
  readonly pathParameters: Record<string, string>;
}

const PARAM = /^\{([A-Za-z0-9_]+)\}$/;
const GREEDY = /^\{([A-Za-z0-9_]+)\+\}$/;

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/**
 * A router over route keys like `GET /safe/config`, `ANY /safe/{proxy+}`. As on API Gateway, the
 * most specific route wins: more literal segments first, a `{proxy+}` route last, a named method
 * before `ANY`.
 */
export function createRouter(routes: ReadonlyArray<readonly [routeKey: string, handler: HttpHandler]>) {
  const compiled: CompiledRoute[] = routes.map(([routeKey, handler]) => {
    const [method, path] = routeKey.split(' ') as [string, string];
    const segments = splitPath(path);
    const greedy = segments.length > 0 && GREEDY.test(segments[segments.length - 1]!);
    const literals = segments.filter((segment) => !PARAM.test(segment) && !GREEDY.test(segment)).length;
    const rank = literals * 1000 + segments.length * 10 - (greedy ? 500 : 0) + (method === 'ANY' ? 0 : 1);
    return { routeKey, method, segments, greedy, handler, rank };
  });
  compiled.sort((a, b) => b.rank - a.rank);

  return function match(method: string, path: string): RouteMatch | undefined {
    const parts = splitPath(path);
    for (const route of compiled) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const fixed = route.greedy ? route.segments.length - 1 : route.segments.length;
      if (route.greedy ? parts.length <= fixed : parts.length !== fixed) continue;
      const pathParameters: Record<string, string> = {};
      let ok = true;
      for (let index = 0; index < fixed && ok; index++) {
        const segment = route.segments[index]!;
        const part = parts[index]!;
        const param = PARAM.exec(segment);
        if (param) pathParameters[param[1]!] = safeDecode(part);
        else ok = segment === part;
      }
      if (!ok) continue;
      if (route.greedy) {
        const name = GREEDY.exec(route.segments[fixed]!)![1]!;
        pathParameters[name] = parts.slice(fixed).map(safeDecode).join('/');
      }
      return { routeKey: route.routeKey, handler: route.handler, pathParameters };
    }
    return undefined;
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Content types API Gateway passes as text; every other body arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded'
  );
}

/** Builds a payload-format-2.0 event from a request whose body has been read. */
export function buildHttpEvent(
  request: IncomingMessage,
  body: Buffer,
  match: RouteMatch,
  now: number,
  domainName: string,
): HttpEvent {
  const url = new URL(request.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams)
    query[name] = name in query ? `${query[name]},${value}` : value;
  const text = isTextContentType(headers['content-type']);
  const method = request.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(match.pathParameters).length > 0 ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: match.routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/** Writes a handler's result as API Gateway would. */
export function writeHttpResult(response: ServerResponse, result: HttpResult, method: string): void {
  const body =
    result.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  if (body.length > 0 && !headers['content-type']) headers['content-type'] = 'application/json';
  // A HEAD reply keeps the length the handler reported for the resource it did not send.
  if (method !== 'HEAD' || headers['content-length'] === undefined)
    headers['content-length'] = String(body.length);
  response.writeHead(result.statusCode, headers);
  response.end(method === 'HEAD' ? undefined : body);
}
