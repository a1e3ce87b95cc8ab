/** Lambda entry for `wsPull` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsPull } from '../runtime/functions/ws-pull.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';

const { config, base } = awsSetup('wsPull');
export const handler = composeWsPull(config, { dynamo: createDynamo() }, base);
