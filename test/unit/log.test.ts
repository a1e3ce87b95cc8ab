import { describe, expect, it } from 'vitest';
import { METRICS } from '../../contract/metrics.ts';
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

describe('embedded metrics on Lambda', () => {
  const metrics = { function: 'wsSend', now: () => 1_700_000_000_123.7 } as const;
  const emf = (fields: LogFields) => JSON.parse(formatLogLine(fields, metrics));

  it('turns an internal error into one Faults data point under the function dimension', () => {
    const line = emf({ route: 'send', outcome: 'error', code: 'internal', status: 500, durationMs: 12.34 });
    expect(line._aws).toEqual({
      Timestamp: 1_700_000_000_123,
      CloudWatchMetrics: [
        {
          Namespace: 'Switchyard',
          Dimensions: [['function']],
          Metrics: [{ Name: 'Faults', Unit: 'Count' }],
        },
      ],
    });
    expect(line).toMatchObject({ function: 'wsSend', Faults: 1 });
    // The allowlisted fields are still there, unchanged.
    expect(line).toMatchObject({
      route: 'send',
      outcome: 'error',
      code: 'internal',
      status: 500,
      durationMs: 12.3,
    });
  });

  it('leaves successes and documented refusals as plain lines: no custom metric to pay for', () => {
    for (const outcome of ['ok', 'rejected'] as const) {
      const line = emf({ route: 'send', outcome, durationMs: 3 });
      expect(line._aws).toBeUndefined();
      expect(line.Faults).toBeUndefined();
      expect(line.function).toBeUndefined();
    }
  });

  it('has one dimension, the function, and keeps identifiers out of metrics as out of the line', () => {
    const line = emf({
      route: 'GET /directory/ECHOECHO',
      outcome: 'error',
      identity: 'ECHOECHO',
      sourceIp: '10.1.2.3',
    } as unknown as LogFields);
    expect(line._aws.CloudWatchMetrics[0].Dimensions).toEqual([[METRICS.dimension]]);
    const text = JSON.stringify(line);
    expect(text).not.toContain('ECHOECHO');
    expect(text).not.toContain('10.1.2.3');
  });

  it('is off unless asked for: the local runner and tests log plain lines', () => {
    const lines: string[] = [];
    createLogger((line) => lines.push(line))({ route: 'send', outcome: 'error' });
    createLogger((line) => lines.push(line), metrics)({ route: 'send', outcome: 'error' });
    expect(JSON.parse(lines[0] as string)._aws).toBeUndefined();
    expect(JSON.parse(lines[1] as string)._aws.CloudWatchMetrics[0].Namespace).toBe(METRICS.namespace);
  });
});
