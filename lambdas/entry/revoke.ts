/**
 * Lambda entry for `revoke` (see contract/manifest.ts): the directory's own composition, serving
 * only `POST /directory/revoke` with reserved concurrency. It never sends verification codes, so it
 * loads no SES or SNS client.
 */
import type { CodeTransport } from '../adapters/codes.ts';
import { awsSetup } from '../runtime/aws.ts';
import { composeDirectory } from '../runtime/functions/directory.ts';
import { notGranted } from '../runtime/functions/shared.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createManagement } from '../runtime/sdk/management.ts';

const { config, base } = awsSetup('revoke');
export const handler = composeDirectory(
  config,
  {
    dynamo: createDynamo(),
    management: createManagement(),
    codes: notGranted<CodeTransport>('code delivery'),
  },
  base,
);
