/** Lambda entry for `wsDisconnect` (see lambdas/runtime/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsDisconnect } from '../runtime/compose.ts';

export const handler = buildWsDisconnect(awsDeps('wsDisconnect'));
