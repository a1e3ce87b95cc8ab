/** Lambda entry for `wsDefault` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsDefault } from '../runtime/functions/ws-default.ts';

const { config, base } = awsSetup('wsDefault');
export const handler = composeWsDefault(config, {}, base);
