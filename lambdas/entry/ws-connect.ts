/** Lambda entry for `wsConnect` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsConnect } from '../runtime/compose.ts';

export const handler = buildWsConnect(awsDeps('wsConnect'));
