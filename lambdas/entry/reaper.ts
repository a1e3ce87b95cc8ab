/** Lambda entry for `reaper` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeReaper } from '../runtime/functions/reaper.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createManagement } from '../runtime/sdk/management.ts';

const { config, base } = awsSetup('reaper');
export const handler = composeReaper(
  config,
  { dynamo: createDynamo(), management: createManagement() },
  base,
);
