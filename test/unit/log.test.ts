import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine, type LogFields } from '../../lambdas/runtime/log.ts';

describe('allowlisted log lines', () => {
  it('keeps route, outcome, code and numbers', () => {
    const line = JSON.parse(
      formatLogLine({
        route: 'GET /safe/backups/{id}',
        outcome: 'rejected',
        code: 'not_found',
        status: 404,
        durationMs: 1.234,
        bytesIn: 0,
        bytesOut: 10,
      }),
    );
    expect(line).toEqual({
      route: 'GET /safe/backups/{id}',
      outcome: 'rejected',
      code: 'not_found',
      status: 404,
      durationMs: 1.2,
      bytesIn: 0,
      bytesOut: 10,
    });
  });

  it('drops fields that are not on the allowlist', () => {
    const fields = {
      route: '$connect',
      outcome: 'ok',
      connectionId: 'Zm9vYmFyYmF6cXV4',
      sourceIp: '10.1.2.3',
      identity: 'ECHOECHO',
    } as unknown as LogFields;
    const line = formatLogLine(fields);
    expect(line).not.toContain('Zm9vYmFyYmF6cXV4');
    expect(line).not.toContain('10.1.2.3');
    expect(line).not.toContain('ECHOECHO');
    expect(JSON.parse(line)).toEqual({ route: '$connect', outcome: 'ok' });
  });

  it('replaces a route that carries a concrete value with "unknown"', () => {
    const id = '066384d3695fbbd9f31a7d533900fd0cd8d1373beb6a28678522d2a49980c9c3';
    expect(JSON.parse(formatLogLine({ route: `GET /safe/backups/${id}`, outcome: 'ok' })).route).toBe(
      'unknown',
    );
    expect(JSON.parse(formatLogLine({ route: 'GET /directory/ECHOECHO', outcome: 'ok' })).route).toBe(
      'unknown',
    );
    expect(JSON.parse(formatLogLine({ route: 'GET /directory/echoecho', outcome: 'ok' })).route).toBe(
      'GET /directory/echoecho',
    );
    expect(JSON.parse(formatLogLine({ route: 'ECHO ECHO', outcome: 'ok' })).route).toBe('unknown');
    expect(JSON.parse(formatLogLine({ route: 'user@example.com', outcome: 'ok' })).route).toBe('unknown');
  });

  it('refuses codes and outcomes outside their vocabularies', () => {
    const line = JSON.parse(
      formatLogLine({ route: '$default', outcome: 'ECHOECHO', code: 'ECHOECHO' } as unknown as LogFields),
    );
    expect(line).toEqual({ route: '$default', outcome: 'error' });
  });

  it('writes one line per call to its sink', () => {
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line));
    log({ route: '$connect', outcome: 'ok' });
    log({ route: '$disconnect', outcome: 'ok' });
    expect(lines).toHaveLength(2);
  });
});
