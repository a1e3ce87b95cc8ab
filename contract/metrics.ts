/**
 * The one metric functions publish themselves (embedded metric format): internal errors the handler
 * answered, which Lambda counts as successful invocations. Requests, durations and crashes are
 * Lambda's own metrics. A fault line carries the metric and other lines don't, so an account pays
 * for the custom metric only in hours with faults. The Lambda runtime writes them (lambdas/runtime/log.ts) and the alarms in lib/ read them.
 */
export const METRICS = {
  namespace: 'Switchyard',
  /** The only dimension: the manifest name of the function. */
  dimension: 'function',
  /** Requests that ended in an internal error (outcome `error`). */
  faults: 'Faults',
} as const;

/**
 * The namespace of one deployment's metrics: `Switchyard`, or `Switchyard/<stage>` for a stage, so
 * two copies in one account and Region keep their alarms and dashboards apart.
 */
export function metricsNamespace(stage?: string): string {
  return stage ? `${METRICS.namespace}/${stage}` : METRICS.namespace;
}
