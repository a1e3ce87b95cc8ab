/** Lambda entry for `safe` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildSafe } from '../runtime/compose.ts';

const deps = awsDeps('safe');
// Start reading the Basic auth secret (if any) during init; a failure is retried on first use.
deps.safeAuth().catch(() => {});

export const handler = buildSafe(deps);
