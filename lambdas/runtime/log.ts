/**
 * Logs from an allowlist. A line may carry the route, the outcome, an error code, a duration, sizes
 * and counts: nothing else, so no identity, key, hash, backup id, connection id or IP address can
 * reach CloudWatch or the runner's console. Fields not in the allowlist are dropped, and string
 * values are restricted to the fixed vocabularies below.
 */
import { ERROR_CODES, type ErrorCode } from '../../protocol/errors.ts';

export type Outcome = 'ok' | 'rejected' | 'error';

export interface LogFields {
  /** A route key from the manifest (`$connect`, `GET /safe/config`, …), never a client-chosen value. */
  readonly route: string;
  readonly outcome: Outcome;
  readonly code?: ErrorCode;
  readonly status?: number;
  readonly durationMs?: number;
  readonly bytesIn?: number;
  readonly bytesOut?: number;
  readonly count?: number;
}

export type Logger = (fields: LogFields) => void;

const NUMERIC = ['status', 'durationMs', 'bytesIn', 'bytesOut', 'count'] as const;
const OUTCOMES: readonly string[] = ['ok', 'rejected', 'error'];
/**
 * Route keys look like `$connect`, `echo` or `GET /safe/backups/{id}`: path segments are short
 * lowercase words or `{placeholders}`, so a concrete id, hash or identity can never pass as a route.
 */
const SEGMENT = '([a-z][a-z0-9-]{0,23}|\\{[a-zA-Z]{1,16}\\+?\\})';
const ROUTE_PATTERN = new RegExp(
  `^(\\$[a-z]+|[a-z][a-zA-Z]{0,31}|(GET|PUT|POST|HEAD|DELETE|PATCH|OPTIONS|ANY) (/${SEGMENT})*/?)$`,
);

/** Turns fields into one JSON line holding only allowlisted keys and values. */
export function formatLogLine(fields: LogFields): string {
  const line: Record<string, string | number> = {
    route: ROUTE_PATTERN.test(fields.route) ? fields.route : 'unknown',
    outcome: OUTCOMES.includes(fields.outcome) ? fields.outcome : 'error',
  };
  if (fields.code !== undefined && Object.hasOwn(ERROR_CODES, fields.code)) line.code = fields.code;
  for (const key of NUMERIC) {
    const value = fields[key];
    if (typeof value === 'number' && Number.isFinite(value)) line[key] = Math.round(value * 10) / 10;
  }
  return JSON.stringify(line);
}

export function createLogger(
  sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Logger {
  return (fields) => sink(formatLogLine(fields));
}
