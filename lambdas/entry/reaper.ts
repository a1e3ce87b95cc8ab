/** Lambda entry for `reaper` (see contract/manifest.ts), invoked by its EventBridge schedule. */
import { awsDeps } from '../runtime/aws.ts';
import { buildReaper } from '../runtime/compose.ts';

export const handler = buildReaper(awsDeps('reaper'));
