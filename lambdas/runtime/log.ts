/**
 * Logs from an allowlist. A line may carry the route, the outcome, an error code, a duration, sizes
 * and counts: nothing else, so no identity, key, hash, backup id, connection id or IP address can
 * reach CloudWatch or the runner's console. Fields not in the allowlist are dropped, and string
 * values are restricted to the fixed vocabularies below.
 *
 * On Lambda a line that records an internal error also carries a CloudWatch metric in the embedded
 * metric format: a count, with the manifest's function name as the one dimension. No metric is
 * ever keyed by anything a client sent.
 */

import type { FunctionName } from '../../contract/manifest.ts';
import { METRICS } from '../../contract/metrics.ts';
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

/** Embedded metrics for one function's log lines. */
export interface MetricsOptions {
  /** The manifest name: the metric's only dimension. */
  readonly function: FunctionName;
  /** Epoch milliseconds for the metric's timestamp. */
  readonly now: () => number;
  /**
   * The deployment's namespace (contract/metrics.ts `metricsNamespace`).
   * @default METRICS.namespace
   */
  readonly namespace?: string;
}

/** Turns fields into one JSON line holding only allowlisted keys and values. */
export function formatLogLine(fields: LogFields, metrics?: MetricsOptions): string {
  const line = allowlisted(fields);
  return JSON.stringify(metrics && line.outcome === 'error' ? { ...line, ...faultMetric(metrics) } : line);
}

/** The `_aws` block and value CloudWatch Logs turns into one Faults data point. */
function faultMetric(metrics: MetricsOptions) {
  return {
    _aws: {
      Timestamp: Math.floor(metrics.now()),
      CloudWatchMetrics: [
        {
          Namespace: metrics.namespace ?? METRICS.namespace,
          Dimensions: [[METRICS.dimension]],
          Metrics: [{ Name: METRICS.faults, Unit: 'Count' }],
        },
      ],
    },
    [METRICS.dimension]: metrics.function,
    [METRICS.faults]: 1,
  };
}

function allowlisted(fields: LogFields): Record<string, string | number> {
  const line: Record<string, string | number> = {
    route: ROUTE_PATTERN.test(fields.route) ? fields.route : 'unknown',
    outcome: OUTCOMES.includes(fields.outcome) ? fields.outcome : 'error',
  };
  if (fields.code !== undefined && Object.hasOwn(ERROR_CODES, fields.code)) line.code = fields.code;
  for (const key of NUMERIC) {
    const value = fields[key];
    if (typeof value === 'number' && Number.isFinite(value)) line[key] = Math.round(value * 10) / 10;
  }
  return line;
}

/**
 * A logger writing one line per call to `sink` (stdout by default: raw lines, so Lambda's JSON log
 * format leaves them as they are and CloudWatch Logs can read their embedded metrics).
 */
export function createLogger(
  sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  metrics?: MetricsOptions,
): Logger {
  return (fields) => sink(formatLogLine(fields, metrics));
}
