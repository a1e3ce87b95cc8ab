/**
 * `GET /health`: 200 `{"status":"ok"}` when the tables and the Safe bucket answer, 503
 * `{"status":"unavailable"}` when one does not — for an external monitor. The answer names nothing
 * (no table, no error), so it tells a stranger no more than that the service is up.
 */
import type { HttpHandler } from '../../contract/events.ts';
import type { HealthProbe } from '../adapters/health.ts';

export function makeHealthHandler(deps: { readonly probe: HealthProbe }): HttpHandler {
  return async () => {
    const ok = await deps.probe.check().then(
      () => true,
      () => false,
    );
    return {
      statusCode: ok ? 200 : 503,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify({ status: ok ? 'ok' : 'unavailable' }),
    };
  };
}
