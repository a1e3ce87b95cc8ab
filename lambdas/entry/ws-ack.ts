/** Lambda entry for `wsAck` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsAck } from '../runtime/functions/ws-ack.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';

const { config, base } = awsSetup('wsAck');
export const handler = composeWsAck(config, { dynamo: createDynamo() }, base);
