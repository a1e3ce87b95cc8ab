/** Lambda entry for `vault` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { VAULT_SETUP_REQUEST_TOKEN } from '../adapters/vault-setup.ts';
import { awsSetup } from '../runtime/aws.ts';
import { composeVault } from '../runtime/functions/vault.ts';
import { createCodeTransport } from '../runtime/sdk/codes.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createWriteOnceSecret } from '../runtime/sdk/write-once-secret.ts';

const { config, base } = awsSetup('vault');
export const handler = composeVault(
  config,
  {
    dynamo: createDynamo(),
    codes: createCodeTransport(),
    vaultSetup: (arn) => createWriteOnceSecret(arn, VAULT_SETUP_REQUEST_TOKEN),
  },
  base,
);
