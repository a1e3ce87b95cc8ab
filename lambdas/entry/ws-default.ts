/** Lambda entry for `wsDefault` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsDefault } from '../runtime/functions/ws-default.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';

const { config, base } = awsSetup('wsDefault');
export const handler = composeWsDefault(config, { dynamo: createDynamo() }, base);
