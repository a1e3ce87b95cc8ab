/**
 * The vault's OPRF server setup: a Secrets Manager secret encrypted with a customer-managed KMS key
 * of its own, whose key policy lets exactly one role use it (the vault function's), and only through
 * Secrets Manager. The account's administrators may manage the key but get no cryptographic action
 * from it. The stack creates the secret with a random placeholder; the vault function makes the real
 * setup on first use and writes it once (lambdas/adapters/vault-setup.ts).
 *
 * It lives in the API stack, beside the function, so the key policy can name the function's role
 * without a dependency from the stateful stack back onto this one. Key and secret are retained: a
 * new setup would make every stored vault unopenable (docs/OPERATIONS.md).
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  Grant,
  type IRole,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import { KEY_ADMIN_ACTIONS } from './data-key.ts';

/** What Secrets Manager does with the key for the vault function: read the setup, write it once. */
export const VAULT_KEY_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

export class VaultSetup extends Construct {
  readonly key: Key;
  readonly secret: CfnSecret;
  /** The secret's ARN (what the function is told and granted). */
  readonly secretArn: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Switchyard vault: the OPRF server setup (only the vault function may use it)',
      enableKeyRotation: true,
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'AdministerWithoutUsing',
            principals: [new AccountRootPrincipal()],
            actions: [...KEY_ADMIN_ACTIONS],
            resources: ['*'],
          }),
        ],
      }),
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // No SecretString and no GenerateSecretString: an empty secret, no value until the function's.
    this.secret = new CfnSecret(this, 'Secret', {
      description: 'Switchyard vault OPRF server setup (written by the vault function on first use)',
      kmsKeyId: this.key.keyArn,
    });
    this.secret.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.secretArn = this.secret.ref;
    acknowledge(
      this.secret,
      'AwsSolutions-SMG4',
      'The OPRF server setup cannot be rotated: a new one makes every stored vault unopenable (each ' +
        'registration record is bound to it). It is never sent anywhere; only the vault function can decrypt it.',
    );
  }

  /**
   * Lets `role` (the vault function's) read the setup and write it once: IAM on the secret, and the
   * key's own policy naming that role, only through Secrets Manager in this Region.
   */
  grantTo(role: IRole): void {
    Grant.addToPrincipal({
      grantee: role,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resourceArns: [this.secretArn],
    });
    const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` };
    Grant.addToPrincipal({
      grantee: role,
      actions: [...VAULT_KEY_ACTIONS],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: viaSecretsManager },
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyTheVaultFunctionThroughSecretsManager',
        principals: [role],
        actions: [...VAULT_KEY_ACTIONS],
        resources: ['*'],
        conditions: { StringEquals: { ...viaSecretsManager, 'kms:CallerAccount': Aws.ACCOUNT_ID } },
      }),
    );
  }
}
