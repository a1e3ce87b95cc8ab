/** Lambda entry for `wsAck` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildWsAck } from '../runtime/compose.ts';

export const handler = buildWsAck(awsDeps('wsAck'));
