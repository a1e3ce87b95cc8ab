/**
 * Payload-format-2.0 events for the Safe routes, routed with the local router (API Gateway's
 * precedence rules) over the manifest's route keys, so handler tests see the routeKey and path
 * parameters API Gateway would give them.
 */
import type { HttpEvent, HttpResult } from '../../contract/events.ts';
import { FUNCTIONS } from '../../contract/manifest.ts';
import { createRouter } from '../../local/http-api.ts';

const unused = async (): Promise<HttpResult> => ({ statusCode: 500 });
const match = createRouter(FUNCTIONS.safe.httpRoutes.map((key) => [key, unused] as const));

export interface SafeEventInput {
  readonly method: string;
  /** Full path, e.g. `/safe/backups/<id>`. */
  readonly path: string;
  /** Binary bodies are passed base64-encoded, as API Gateway does for non-text content types. */
  readonly body?: Uint8Array;
  /** A text body (as API Gateway passes `application/json` and `text/*`). */
  readonly text?: string;
  readonly headers?: Record<string, string>;
}

export function safeEvent(input: SafeEventInput): HttpEvent {
  const matched = match(input.method, input.path);
  if (!matched) throw new Error('no Safe route matches this path');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  let body: string | undefined;
  let isBase64Encoded = false;
  if (input.body && input.body.length > 0) {
    body = Buffer.from(input.body).toString('base64');
    isBase64Encoded = true;
    headers['content-type'] ??= 'application/octet-stream';
    headers['content-length'] ??= String(input.body.length);
  } else if (input.text !== undefined && input.text.length > 0) {
    body = input.text;
    headers['content-length'] ??= String(Buffer.byteLength(input.text));
  }
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: matched.routeKey,
    rawPath: input.path,
    rawQueryString: '',
    headers,
    ...(Object.keys(matched.pathParameters).length > 0 ? { pathParameters: matched.pathParameters } : {}),
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test.local',
      domainPrefix: 'test',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'Threema',
      },
      requestId: 'request',
      routeKey: matched.routeKey,
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded,
  };
}

/** The response body as bytes. */
export function resultBytes(result: HttpResult): Buffer {
  if (result.body === undefined) return Buffer.alloc(0);
  return Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
}

/** A Basic `Authorization` header value. */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
