/** Lambda entry for `wsDisconnect` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsDisconnect } from '../runtime/functions/ws-disconnect.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';

const { config, base } = awsSetup('wsDisconnect');
export const handler = composeWsDisconnect(config, { dynamo: createDynamo() }, base);
