/**
 * Threema Safe over the HTTP API (protocol/safe.ts has the endpoints and the body layout). Every
 * request goes through the same steps, each of which can only refuse, never change anything:
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

import { bodyBytes, type HttpEvent, type HttpHandler, type HttpResult } from '../../contract/events.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { type BackupId, encodeSafeConfig, ensureBackupId } from '../../protocol/safe.ts';
import type { Clock } from '../domain/clock.ts';
import {
  BASIC_AUTH_CHALLENGE,
  type BackupStore,
  basicAuthMatches,
  checkBackupSize,
  isExpired,
} from '../domain/safe.ts';
import { httpError } from '../runtime/middlewares.ts';

export interface SafeDeps {
  readonly backups: BackupStore;
  readonly clock: Clock;
  readonly config: { readonly safe: { readonly maxBackupBytes: number; readonly retentionDays: number } };
  /** The expected Basic auth digest, or undefined for an open Safe. */
  safeAuth(): Promise<Uint8Array | undefined>;
}

/** What a well-formed Safe request asks for. */
export type SafeRequest =
  | { readonly kind: 'config' }
  | { readonly kind: 'put'; readonly id: BackupId; readonly body: Uint8Array }
  | { readonly kind: 'get' | 'head' | 'delete'; readonly id: BackupId }
  | { readonly kind: 'notAllowed'; readonly allow: string };

export const CONFIG_METHODS = 'GET, HEAD';
export const BACKUP_METHODS = 'GET, HEAD, PUT, DELETE';

const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** A header by its lowercase name (payload format 2.0 lowercases names; be lenient anyway). */
function header(event: HttpEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  if (headers[name] !== undefined) return headers[name];
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/**
 * Step 1: refuses a request whose declared or actual body is over `maxBackupBytes`, before the body
 * is decoded or anything else is looked at. The actual size of a base64 body is computed from its
 * length, without decoding it.
 */
export function checkRequestSize(event: HttpEvent, maxBackupBytes: number): void {
  const declared = header(event, 'content-length');
  if (declared !== undefined && /^\s*[0-9]+\s*$/.test(declared) && Number(declared) > maxBackupBytes)
    throw new SwitchyardError('too_large');
  const body = event.body;
  if (typeof body === 'string' && body.length > 0) {
    // A body over four times the limit in characters is over the limit whatever its encoding.
    if (body.length > maxBackupBytes * 4) throw new SwitchyardError('too_large');
    const actual = event.isBase64Encoded
      ? Buffer.byteLength(body, 'base64')
      : Buffer.byteLength(body, 'utf8');
    if (actual > maxBackupBytes) throw new SwitchyardError('too_large');
  }
}

type Target = { readonly kind: 'config' } | { readonly kind: 'backup'; readonly id: unknown };

/** Which resource the route and its path parameters name; undefined for any other path. */
function targetOf(event: HttpEvent): Target | undefined {
  const params = event.pathParameters ?? {};
  switch (event.routeKey) {
    case 'GET /safe/config':
      return { kind: 'config' };
    case 'ANY /safe/backups/{id}':
      return { kind: 'backup', id: params.id };
    case 'ANY /safe/{proxy+}': {
      const proxy = params.proxy;
      if (typeof proxy !== 'string' || proxy.length > 256) return undefined;
      const parts = proxy.split('/');
      if (parts.length === 1 && parts[0] === 'config') return { kind: 'config' };
      if (parts.length === 2 && parts[0] === 'backups') return { kind: 'backup', id: parts[1] };
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Steps 1 and 3: turns an event into a {@link SafeRequest} or throws a SwitchyardError
 * (`too_large`, `not_found`, `bad_request`). Never touches the store; never throws anything else.
 */
export function parseSafeRequest(event: HttpEvent, maxBackupBytes: number): SafeRequest {
  checkRequestSize(event, maxBackupBytes);
  const target = targetOf(event);
  if (!target) throw new SwitchyardError('not_found');
  const method = event.requestContext?.http?.method;
  if (target.kind === 'config') {
    return method === 'GET' || method === 'HEAD'
      ? { kind: 'config' }
      : { kind: 'notAllowed', allow: CONFIG_METHODS };
  }
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT' && method !== 'DELETE')
    return { kind: 'notAllowed', allow: BACKUP_METHODS };
  const id = ensureBackupId(target.id);
  if (method !== 'PUT') return { kind: method === 'GET' ? 'get' : method === 'HEAD' ? 'head' : 'delete', id };
  const body = bodyBytes(event);
  checkBackupSize(body.length, maxBackupBytes);
  return { kind: 'put', id, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
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
    checkRequestSize(event, maxBackupBytes);

    const expected = await deps.safeAuth();
    if (expected && !basicAuthMatches(header(event, 'authorization'), expected)) {
      return httpError('unauthorized', { 'www-authenticate': BASIC_AUTH_CHALLENGE, ...COMMON_HEADERS });
    }

    const request = parseSafeRequest(event, maxBackupBytes);
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
