/** Lambda entry for `safe` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeSafe } from '../runtime/functions/safe.ts';
import { createS3 } from '../runtime/sdk/s3.ts';
import { createLazySecretReader } from '../runtime/sdk/secrets-lazy.ts';

const { config, base } = awsSetup('safe');
export const handler = composeSafe(config, { s3: createS3(), secrets: createLazySecretReader() }, base);

// Start reading the Basic auth secret (if any) during init; a failure is retried on first use.
handler.safeAuth().catch(() => {});
