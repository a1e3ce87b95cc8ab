/** Lambda entry for `wsHello` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsHello } from '../runtime/compose.ts';

export const handler = buildWsHello(awsDeps('wsHello'));
