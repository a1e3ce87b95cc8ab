/** Lambda entry for `vault` (see contract/manifest.ts): its own composition and SDK clients, nothing else. */
import { awsSetup } from '../runtime/aws.ts';
import { composeVault } from '../runtime/functions/vault.ts';
import { createCodeTransport } from '../runtime/sdk/codes.ts';
import { createDynamo } from '../runtime/sdk/dynamo.ts';
import { createVaultSetupSecret } from '../runtime/sdk/vault-setup.ts';

const { config, base } = awsSetup('vault');
export const handler = composeVault(
  config,
  { dynamo: createDynamo(), codes: createCodeTransport(), vaultSetup: (arn) => createVaultSetupSecret(arn) },
  base,
);
