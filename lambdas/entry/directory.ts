/** Lambda entry for `directory` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeDirectory } from '../runtime/functions/directory.ts';
import { createCodeTransport } from '../runtime/sdk/codes.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createManagement } from '../runtime/sdk/management.ts';

const { config, base } = awsSetup('directory');
export const handler = composeDirectory(
  config,
  { dynamo: createDynamo(), management: createManagement(), codes: createCodeTransport() },
  base,
);
