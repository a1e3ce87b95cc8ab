/**
 * `vault`: the backup key vault. Its own table, the identities and challenges it checks proofs
 * against, code delivery, and the OPRF server setup (given locally, from Secrets Manager on AWS).
 */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import type { CodeTransport } from '../../adapters/codes.ts';
import { dynamoEphemeralStore } from '../../adapters/ephemeral.ts';
import { dynamoIdentityStore } from '../../adapters/identities.ts';
import { serenityOpaqueServer } from '../../adapters/opaque.ts';
import { dynamoVaultStore } from '../../adapters/vault.ts';
import { loadVaultSetup } from '../../adapters/vault-setup.ts';
import type { WriteOnceSecret } from '../../adapters/write-once-secret.ts';
import { epochSeconds } from '../../domain/clock.ts';
import type { CodeSender } from '../../domain/directory.ts';
import { createVault } from '../../domain/vault.ts';
import { makeVaultHandler } from '../../handlers/vault.ts';
import { ConfigError, ENV, type RuntimeConfig } from '../env.ts';
import { httpStack } from '../middlewares.ts';
import { type Base, cachedOnce, codeSenderFor, type DynamoClients, tableName } from './shared.ts';

export interface VaultClients extends DynamoClients {
  readonly codes: CodeTransport;
  /** The setup secret on AWS (config `vaultSetup.kind === 'secret'`). */
  readonly vaultSetup?: (secretArn: string) => WriteOnceSecret;
}

/** The OPRF server setup, once per container: given, or read (and made on first use) from the secret. */
function setupSource(config: RuntimeConfig, clients: VaultClients): () => Promise<string> {
  const source = config.vaultSetup;
  if (source?.kind === 'setup') return async () => source.setup;
  if (!source || !clients.vaultSetup) {
    return () =>
      Promise.reject(new ConfigError(ENV.vaultSetupSecretArn, 'is not configured for this function'));
  }
  const secret = clients.vaultSetup(source.secretArn);
  return cachedOnce(() => loadVaultSetup(secret));
}

export function composeVault(
  config: RuntimeConfig,
  clients: VaultClients,
  base: Base & { readonly codes?: CodeSender },
) {
  const { clock } = base;
  const vault = createVault({
    vault: dynamoVaultStore(clients.dynamo, tableName(config, 'vault')),
    identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
    ephemeral: dynamoEphemeralStore(clients.dynamo, tableName(config, 'ephemeral'), () =>
      epochSeconds(clock.now()),
    ),
    opaque: serenityOpaqueServer(setupSource(config, clients)),
    codes: codeSenderFor(config, clients.codes, base.codes),
    clock,
    random: base.random,
  });
  return Object.assign(middy(makeVaultHandler({ vault })).use(httpStack(base, LIMITS.vaultBodyBytes)), {
    vault,
  });
}
