/** Lambda entry for `wsLogin` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsLogin } from '../runtime/functions/ws-login.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createManagement } from '../runtime/sdk/management.ts';
import { createSecretReader } from '../runtime/sdk/secrets.ts';

const { config, base } = awsSetup('wsLogin');
export const handler = composeWsLogin(
  config,
  { dynamo: createDynamo(), secrets: createSecretReader(), management: createManagement() },
  base,
);
