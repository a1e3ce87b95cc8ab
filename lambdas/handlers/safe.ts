/**
 * Threema Safe over the HTTP API (protocol/safe.ts has the endpoints, the body layout and the
 * request parser). Every request goes through the same steps, each of which can only refuse, never
 * change anything:
 *
 *   1. size: declared `content-length` and actual body length ≤ maxBackupBytes, else 413;
 *   2. Basic auth when configured, else 401 with a `WWW-Authenticate: Basic` challenge;
 *   3. shape: known path (404), supported method (405 + Allow), 64 lowercase hex id (400),
 *      non-empty body for PUT (400);
 *
 * and only then touches the store. GET and HEAD answer exactly 200 or 404, and an expired backup is
 * absent even before the lifecycle rule has deleted it. PUT and DELETE answer 200 with a short JSON
 * body, because iOS treats an empty 2xx as a failure. DELETE is idempotent: Threema for Android
 * reports any non-2xx from DELETE as an error, so deleting an absent backup also answers 200.
 */

import type { HttpEvent, HttpHandler, HttpResult } from '../../contract/events.ts';
import { headerValue } from '../../protocol/http.ts';
import {
  encodeSafeConfig,
  parseSafeRequest,
  type SafeHttpInput,
  type SafeTarget,
  safeTargetOfPath,
} from '../../protocol/safe.ts';
import type { Clock } from '../domain/clock.ts';
import { BASIC_AUTH_CHALLENGE, type BackupStore, basicAuthMatches, isExpired } from '../domain/safe.ts';
import { httpError } from '../runtime/middlewares.ts';

export interface SafeDeps {
  readonly backups: BackupStore;
  readonly clock: Clock;
  readonly config: { readonly safe: { readonly maxBackupBytes: number; readonly retentionDays: number } };
  /** The expected Basic auth digest, or undefined for an open Safe. */
  safeAuth(): Promise<Uint8Array | undefined>;
}

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** Which resource the route and its path parameters name; undefined for any other path. */
function targetOf(event: HttpEvent): SafeTarget | undefined {
  const params = event.pathParameters ?? {};
  switch (event.routeKey) {
    case 'GET /safe/config':
      return { kind: 'config' };
    case 'ANY /safe/backups/{id}':
      return { kind: 'backup', id: params.id };
    case 'ANY /safe/{proxy+}':
      return safeTargetOfPath(params.proxy);
    default:
      return undefined;
  }
}

/** The raw parts of a Safe request, as protocol/safe.ts parses them. */
export function safeInput(event: HttpEvent): SafeHttpInput {
  return {
    method: event.requestContext?.http?.method,
    headers: event.headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    target: targetOf(event),
  };
}

function json(statusCode: number, value: unknown): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...COMMON_HEADERS },
    body: JSON.stringify(value),
  };
}

export function makeSafeHandler(deps: SafeDeps): HttpHandler {
  return async (event: HttpEvent): Promise<HttpResult> => {
    const { maxBackupBytes, retentionDays } = deps.config.safe;
    // Size came first, in the middy stack (bodyLimit at maxBackupBytes); then Basic auth.
    const input = safeInput(event);

    const expected = await deps.safeAuth();
    if (expected && !basicAuthMatches(headerValue(input.headers, 'authorization'), expected)) {
      return httpError('unauthorized', { 'www-authenticate': BASIC_AUTH_CHALLENGE, ...COMMON_HEADERS });
    }

    const request = parseSafeRequest(input, maxBackupBytes);
    const now = deps.clock.now();
    switch (request.kind) {
      case 'notAllowed':
        return httpError('method_not_allowed', { allow: request.allow });
      case 'config':
        return {
          statusCode: 200,
          headers: { 'content-type': 'application/json', ...COMMON_HEADERS },
          body: encodeSafeConfig({ maxBackupBytes, retentionDays }),
        };
      case 'put':
        await deps.backups.put(request.id, request.body);
        return json(200, { status: 'ok' });
      case 'delete':
        await deps.backups.delete(request.id);
        return json(200, { status: 'deleted' });
      case 'head': {
        const meta = await deps.backups.head(request.id);
        if (!meta || isExpired(meta.lastModified, retentionDays, now)) return httpError('not_found');
        return {
          statusCode: 200,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(meta.size),
            ...COMMON_HEADERS,
          },
        };
      }
      case 'get': {
        const stored = await deps.backups.get(request.id);
        if (!stored || isExpired(stored.lastModified, retentionDays, now)) return httpError('not_found');
        return {
          statusCode: 200,
          headers: { 'content-type': 'application/octet-stream', ...COMMON_HEADERS },
          body: Buffer.from(stored.bytes.buffer, stored.bytes.byteOffset, stored.bytes.byteLength).toString(
            'base64',
          ),
          isBase64Encoded: true,
        };
      }
    }
  };
}
