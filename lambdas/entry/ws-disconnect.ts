/** Lambda entry for `wsDisconnect` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsDisconnect } from '../runtime/compose.ts';

export const handler = buildWsDisconnect(awsDeps('wsDisconnect'));
