/** Lambda entry for `wsLogin` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsLogin } from '../runtime/compose.ts';

export const handler = buildWsLogin(awsDeps('wsLogin'));
