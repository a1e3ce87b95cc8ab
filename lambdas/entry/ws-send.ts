/** Lambda entry for `wsSend` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsSend } from '../runtime/compose.ts';

export const handler = buildWsSend(awsDeps('wsSend'));
