/** Lambda entry for `wsBlob` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeWsBlob } from '../runtime/functions/ws-blob.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createS3 } from '../runtime/sdk/s3.ts';

const { config, base } = awsSetup('wsBlob');
// On AWS one client both signs and deletes: the URLs point at S3 itself.
const s3 = createS3();
export const handler = composeWsBlob(config, { dynamo: createDynamo(), s3, s3Signer: s3 }, base);
