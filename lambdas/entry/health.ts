/** Lambda entry for `health` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeHealth } from '../runtime/functions/health.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createS3 } from '../runtime/sdk/s3.ts';

const { config, base } = awsSetup('health');
export const handler = composeHealth(config, { dynamo: createDynamo(), s3: createS3() }, base);
