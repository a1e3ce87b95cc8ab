/** Lambda entry for `wsSend` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsSend } from '../runtime/functions/ws-send.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createManagement } from '../runtime/sdk/management.ts';

const { config, base } = awsSetup('wsSend');
export const handler = composeWsSend(
  config,
  { dynamo: createDynamo(), management: createManagement() },
  base,
);
