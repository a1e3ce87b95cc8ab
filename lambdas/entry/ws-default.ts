/** Lambda entry for `wsDefault` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsDefault } from '../runtime/compose.ts';

export const handler = buildWsDefault(awsDeps('wsDefault'));
