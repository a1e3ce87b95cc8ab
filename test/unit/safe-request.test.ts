import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../contract/events.ts';
import { FUNCTIONS } from '../../contract/manifest.ts';
import { isExpired } from '../../lambdas/domain/safe.ts';
import { safeInput } from '../../lambdas/handlers/safe.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import {
  BACKUP_METHODS,
  CONFIG_METHODS,
  ensureBackupId,
  parseSafeConfig,
  parseSafeRequest,
} from '../../protocol/safe.ts';
import { codeOf } from '../support/errors.ts';
import { safeEvent } from '../support/safe-events.ts';

const ID = 'a'.repeat(64);
const MAX = 1024;

describe('backup ids', () => {
  it('are exactly 64 lowercase hex characters', () => {
    expect(ensureBackupId(ID)).toBe(ID);
    expect(ensureBackupId('0123456789abcdef'.repeat(4))).toBe('0123456789abcdef'.repeat(4));
    for (const bad of [
      'A'.repeat(64),
      'a'.repeat(63),
      'a'.repeat(65),
      `${'a'.repeat(63)}g`,
      '',
      ` ${'a'.repeat(63)}`,
    ]) {
      expect(
        codeOf(() => ensureBackupId(bad)),
        bad,
      ).toBe('bad_request');
    }
    for (const bad of [undefined, null, 42, {}, ['a'.repeat(64)]])
      expect(codeOf(() => ensureBackupId(bad))).toBe('bad_request');
  });

  it('fuzz: any value is an id or a bad_request, never a crash', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[0-9a-fA-F]{60,68}$/), fc.anything()),
        (value) => {
          try {
            const id = ensureBackupId(value);
            expect(id).toMatch(/^[0-9a-f]{64}$/);
          } catch (error) {
            expect(error).toBeInstanceOf(SwitchyardError);
            expect((error as SwitchyardError).code).toBe('bad_request');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Safe config body', () => {
  it('parses both required integers and ignores other keys', () => {
    expect(parseSafeConfig('{"maxBackupBytes":524288,"retentionDays":180,"x":1}')).toEqual({
      maxBackupBytes: 524288,
      retentionDays: 180,
    });
  });

  it('refuses a config missing a field or with non-integers', () => {
    for (const text of [
      '{}',
      '{"maxBackupBytes":1}',
      '{"maxBackupBytes":1.5,"retentionDays":1}',
      '[]',
      'x',
      '{"maxBackupBytes":"1","retentionDays":1}',
    ]) {
      expect(
        codeOf(() => parseSafeConfig(text)),
        text,
      ).toBe('bad_request');
    }
  });
});

describe('Safe request parsing', () => {
  it('accepts the five Threema requests', () => {
    expect(parseSafeRequest(safeInput(safeEvent({ method: 'GET', path: '/safe/config' })), MAX)).toEqual({
      kind: 'config',
    });
    const body = new Uint8Array([0, 255, 1]);
    expect(
      parseSafeRequest(safeInput(safeEvent({ method: 'PUT', path: `/safe/backups/${ID}`, body })), MAX),
    ).toEqual({
      kind: 'put',
      id: ID,
      body,
    });
    for (const [method, kind] of [
      ['GET', 'get'],
      ['HEAD', 'head'],
      ['DELETE', 'delete'],
    ] as const) {
      expect(parseSafeRequest(safeInput(safeEvent({ method, path: `/safe/backups/${ID}` })), MAX)).toEqual({
        kind,
        id: ID,
      });
    }
  });

  it('answers every other method with the allowed ones', () => {
    expect(
      parseSafeRequest(safeInput(safeEvent({ method: 'POST', path: `/safe/backups/${ID}` })), MAX),
    ).toEqual({
      kind: 'notAllowed',
      allow: BACKUP_METHODS,
    });
    expect(parseSafeRequest(safeInput(safeEvent({ method: 'PUT', path: '/safe/config' })), MAX)).toEqual({
      kind: 'notAllowed',
      allow: CONFIG_METHODS,
    });
    // HEAD config reaches the catch-all route and is still the config.
    expect(parseSafeRequest(safeInput(safeEvent({ method: 'HEAD', path: '/safe/config' })), MAX)).toEqual({
      kind: 'config',
    });
  });

  it('refuses unknown paths, bad ids and bad bodies with their codes', () => {
    const cases: Array<[Parameters<typeof safeEvent>[0], string]> = [
      [{ method: 'GET', path: '/safe/nothing' }, 'not_found'],
      [{ method: 'GET', path: `/safe/backups/${ID}/more` }, 'not_found'],
      [{ method: 'GET', path: '/safe/backups' }, 'not_found'],
      [{ method: 'GET', path: `/safe/backups/${ID.toUpperCase()}` }, 'bad_request'],
      [{ method: 'GET', path: `/safe/backups/${ID.slice(1)}` }, 'bad_request'],
      [{ method: 'PUT', path: `/safe/backups/${ID}` }, 'bad_request'],
      [{ method: 'PUT', path: `/safe/backups/${ID}`, body: new Uint8Array(MAX + 1) }, 'too_large'],
      [{ method: 'PUT', path: `/safe/backups/${ID}`, text: 'x'.repeat(MAX + 1) }, 'too_large'],
      // Size comes first: an oversize body on a bad path is still too large.
      [{ method: 'PUT', path: '/safe/elsewhere', body: new Uint8Array(MAX + 1) }, 'too_large'],
      [
        {
          method: 'PUT',
          path: `/safe/backups/${ID}`,
          body: new Uint8Array(1),
          headers: { 'content-length': String(MAX + 1) },
        },
        'too_large',
      ],
    ];
    for (const [input, code] of cases) {
      expect(
        codeOf(() => parseSafeRequest(safeInput(safeEvent(input)), MAX)),
        `${input.method} ${input.path}`,
      ).toBe(code);
    }
  });

  it('fuzz: arbitrary events give a request or a typed error, never a crash', () => {
    const routeKeys = [...FUNCTIONS.safe.httpRoutes, 'GET /other', ''];
    const event = fc.record({
      routeKey: fc.constantFrom(...routeKeys),
      method: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST', 'PATCH', 'OPTIONS', 'get', ''),
      id: fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9a-fA-F]{63,65}$/), fc.constant(ID)),
      proxy: fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.constantFrom('config', `backups/${ID}`, 'backups/x/y', 'backups'),
      ),
      body: fc.option(fc.string({ maxLength: 2 * MAX }), { nil: undefined }),
      isBase64Encoded: fc.boolean(),
      contentLength: fc.option(fc.oneof(fc.nat().map(String), fc.string({ maxLength: 12 })), {
        nil: undefined,
      }),
    });
    fc.assert(
      fc.property(event, (input) => {
        const built = {
          version: '2.0',
          routeKey: input.routeKey,
          rawPath: '/safe/x',
          rawQueryString: '',
          headers: input.contentLength === undefined ? {} : { 'content-length': input.contentLength },
          pathParameters: { id: input.id, proxy: input.proxy },
          requestContext: { http: { method: input.method } },
          ...(input.body !== undefined ? { body: input.body } : {}),
          isBase64Encoded: input.isBase64Encoded,
        } as unknown as HttpEvent;
        try {
          const request = parseSafeRequest(safeInput(built), MAX);
          if (
            request.kind === 'put' ||
            request.kind === 'get' ||
            request.kind === 'head' ||
            request.kind === 'delete'
          )
            expect(request.id).toMatch(/^[0-9a-f]{64}$/);
          if (request.kind === 'put') {
            expect(request.body.length).toBeGreaterThan(0);
            expect(request.body.length).toBeLessThanOrEqual(MAX);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(SwitchyardError);
          expect(['too_large', 'bad_request', 'not_found']).toContain((error as SwitchyardError).code);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('backup expiry', () => {
  const DAY = 86_400_000;
  it('expires exactly retentionDays after the last PUT', () => {
    const written = 1_700_000_000_000;
    expect(isExpired(written, 180, written + 180 * DAY - 1)).toBe(false);
    expect(isExpired(written, 180, written + 180 * DAY)).toBe(true);
    expect(isExpired(written, 1, written)).toBe(false);
  });
});
