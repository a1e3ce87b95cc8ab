/** Lambda entry for `wsConnect` (see lambdas/runtime/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsConnect } from '../runtime/compose.ts';

export const handler = buildWsConnect(awsDeps('wsConnect'));
