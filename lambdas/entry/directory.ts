/** Lambda entry for `directory` (see contract/manifest.ts). */
import { awsDeps } from '../runtime/aws.ts';
import { buildDirectory } from '../runtime/compose.ts';

export const handler = buildDirectory(awsDeps('directory'));
