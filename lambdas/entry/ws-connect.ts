/** Lambda entry for `wsConnect` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsConnect } from '../runtime/functions/ws-connect.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';

const { config, base } = awsSetup('wsConnect');
export const handler = composeWsConnect(config, { dynamo: createDynamo() }, base);
