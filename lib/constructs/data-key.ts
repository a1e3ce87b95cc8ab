/**
 * The optional customer-managed KMS key for user data (`customerManagedKey`): tables, Safe bucket,
 * server key secret and the functions' log groups. Its key policy keeps administering the key apart
 * from using it: the account's IAM administrators may manage it but get no cryptographic action from
 * it; using it is allowed only through DynamoDB, S3 and Secrets Manager (never a direct KMS call),
 * and only to principals whose own IAM policy grants it too, which the stack does for exactly the
 * functions that read that data. CloudWatch Logs may use it for this account's log groups.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccountRootPrincipal, PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Managing the key without any cryptographic operation (and without CreateGrant, which could hand one out). */
export const KEY_ADMIN_ACTIONS = [
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:UpdateAlias',
  'kms:DescribeKey',
  'kms:List*',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:RotateKeyOnDemand',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:UpdateKeyDescription',
  'kms:RevokeGrant',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/**
 * What DynamoDB, S3 and Secrets Manager do with the key on a caller's behalf: the set of AWS's own
 * service keys (`aws/dynamodb`), here only through those services.
 */
export const KEY_USE_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:DescribeKey',
] as const;

/** The services the key may be used through, in the deployment's Region. */
export const KEY_SERVICES = ['dynamodb', 's3', 'secretsmanager'] as const;

export class DataKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const account = new AccountRootPrincipal();
    const viaServices = KEY_SERVICES.map((service) => `${service}.${Aws.REGION}.amazonaws.com`);
    const policy = new PolicyDocument({
      statements: [
        new PolicyStatement({
          sid: 'AdministerWithoutUsing',
          principals: [account],
          actions: [...KEY_ADMIN_ACTIONS],
          resources: ['*'],
        }),
        new PolicyStatement({
          sid: 'UseOnlyThroughTheDataServices',
          principals: [account],
          actions: [...KEY_USE_ACTIONS],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': viaServices },
          },
        }),
        // DynamoDB keeps a grant for its background work (TTL, backups) on a table's key.
        new PolicyStatement({
          sid: 'LetDynamoDbKeepItsGrants',
          principals: [account],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:CallerAccount': Aws.ACCOUNT_ID, 'kms:ViaService': viaServices[0] },
            Bool: { 'kms:GrantIsForAWSResource': 'true' },
          },
        }),
        // As AWS documents for encrypting log groups: the Region's CloudWatch Logs, for this account's groups.
        new PolicyStatement({
          sid: 'CloudWatchLogsForThisAccountsLogGroups',
          principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
          actions: [
            'kms:Encrypt*',
            'kms:Decrypt*',
            'kms:ReEncrypt*',
            'kms:GenerateDataKey*',
            'kms:Describe*',
          ],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
            },
          },
        }),
      ],
    });
    this.key = new Key(this, 'Key', {
      description: 'Switchyard user data: tables, Safe bucket, server key secret, function logs',
      enableKeyRotation: true,
      policy,
      // Everything it encrypts is retained, so the key must outlive the stack too: without it the
      // retained tables, backups and secret could never be read again.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }
}
