/** Lambda entry for `wsHello` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsHello } from '../runtime/functions/ws-hello.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createSecretReader } from '../runtime/sdk/secrets.ts';

const { config, base } = awsSetup('wsHello');
export const handler = composeWsHello(
  config,
  { dynamo: createDynamo(), secrets: createSecretReader() },
  base,
);
