/** Lambda entry for `wsPull` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsPull } from '../runtime/compose.ts';

export const handler = buildWsPull(awsDeps('wsPull'));
