/** Lambda entry for `wakeups` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */

import { VAPID_REQUEST_TOKEN } from '../adapters/wake/credentials.ts';
import { awsSetup } from '../runtime/aws.ts';
import { composeWakeups } from '../runtime/functions/push.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createSecretReader } from '../runtime/sdk/secrets.ts';
import { createWriteOnceSecret } from '../runtime/sdk/write-once-secret.ts';

const { config, base } = awsSetup('wakeups');
export const handler = composeWakeups(
  config,
  {
    dynamo: createDynamo(),
    secrets: createSecretReader(),
    vapidSecret: (arn) => createWriteOnceSecret(arn, VAPID_REQUEST_TOKEN),
  },
  base,
);
