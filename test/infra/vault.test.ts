/**
 * The vault's deployment: its table keeps no restorable copy (point-in-time recovery off), its
 * function's concurrency is reserved, and its OPRF setup secret is encrypted with a key of its own
 * that only the vault function's role may use, and only through Secrets Manager.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../contract/manifest.ts';
import { ENV } from '../../lambdas/runtime/env.ts';
import { readConfig } from '../../lib/config.ts';
import { VAULT_KEY_ACTIONS } from '../../lib/constructs/vault-setup.ts';
import { Switchyard } from '../../lib/switchyard.ts';

type Json = Record<string, unknown>;
const cdkContext = (JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Json }).context;
const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
const { stateful, api } = new Switchyard(app, 'Switchyard', readConfig(app));
const statefulTemplate = Template.fromStack(stateful);
const apiTemplate = Template.fromStack(api);

const vaultFunction = () => {
  const [entry] = Object.entries(
    apiTemplate.findResources('AWS::Lambda::Function', { Properties: { Description: 'vault' } }),
  );
  return entry as [string, { Properties: Json }];
};

describe('vault deployment', () => {
  it('keeps the vault table without point-in-time recovery, retained, with a TTL', () => {
    const id = stateful.getLogicalId(stateful.tables.vault.node.defaultChild as never);
    const table = statefulTemplate.findResources('AWS::DynamoDB::Table')[id] as Json & { Properties: Json };
    expect(table.DeletionPolicy).toBe('Retain');
    const pitr = table.Properties.PointInTimeRecoverySpecification as Json | undefined;
    expect(pitr?.PointInTimeRecoveryEnabled ?? false).toBe(false);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('reserves the vault function its concurrency and hands it the setup secret', () => {
    const [, fn] = vaultFunction();
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(FUNCTIONS.vault.reservedConcurrency);
    const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
    expect(JSON.stringify(variables[ENV.vaultSetupSecretArn])).toMatch(/^\{"Ref":"VaultSetupSecret/);
  });

  it('encrypts the setup with a retained, rotated key that only the vault role can use, via Secrets Manager', () => {
    const keys = Object.entries(apiTemplate.findResources('AWS::KMS::Key')).filter(([id]) =>
      id.startsWith('VaultSetupKey'),
    );
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0] as [string, Json & { Properties: Json }];
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    // The API stack's secrets with a KMS key of their own (the push VAPID secret has none by default).
    const secrets = Object.values(apiTemplate.findResources('AWS::SecretsManager::Secret')).filter(
      (secret) => (secret as { Properties: Json }).Properties.KmsKeyId !== undefined,
    ) as Array<Json & { Properties: Json }>;
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(secrets[0]!.DeletionPolicy).toBe('Retain');
    // Created empty: nobody but the vault function ever encrypts a value with the key.
    expect(secrets[0]!.Properties.SecretString).toBeUndefined();
    expect(secrets[0]!.Properties.GenerateSecretString).toBeUndefined();

    const roleId = ((vaultFunction()[1].Properties.Role as Json)['Fn::GetAtt'] as string[])[0];
    const statements = ((key.Properties.KeyPolicy as Json).Statement as Json[]) ?? [];
    const crypto = statements.filter((statement) =>
      [statement.Action]
        .flat()
        .some((action) =>
          /^kms:(Decrypt|Encrypt|ReEncrypt|GenerateDataKey|CreateGrant)/.test(String(action)),
        ),
    );
    expect(crypto).toHaveLength(1);
    expect(crypto[0]!.Principal).toEqual({ AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } });
    expect([crypto[0]!.Action].flat().sort()).toEqual([...VAULT_KEY_ACTIONS].sort());
    expect(JSON.stringify((crypto[0]!.Condition as Json).StringEquals)).toContain('secretsmanager.');
  });
});
