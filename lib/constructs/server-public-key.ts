/**
 * The server's public key as a stack output: a custom resource backed by a small function that
 * reads the server key secret and returns only the public half.
 */

import { join } from 'node:path';
import { CustomResource } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { SwitchyardConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';
import { bundledFunction, grantKeyVia, REPO_ROOT } from './manifest-function.ts';

export interface ServerPublicKeyProps {
  readonly serverKey: ISecret;
  readonly config: SwitchyardConfig;
  /** The customer-managed key of the secret and of the log group. @default - none */
  readonly dataKey?: IKey;
  /** Directory the entry file is relative to. @default REPO_ROOT */
  readonly projectRoot?: string;
}

/** Exposes `publicKey`: the hex public key clients pin, derived at deploy time from the secret. */
export class ServerPublicKey extends Construct {
  readonly publicKey: string;

  constructor(scope: Construct, id: string, props: ServerPublicKeyProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? REPO_ROOT;
    const { function: fn } = bundledFunction(this, {
      description: 'serverPublicKey',
      entry: join(projectRoot, 'lambdas/entry/server-public-key.ts'),
      projectRoot,
      logRetentionDays: props.config.logRetentionDays,
      ...(props.dataKey ? { logKey: props.dataKey } : {}),
    });
    // Only reading the value: not secret.grantRead, which adds DescribeSecret.
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [props.serverKey.secretArn],
    });
    if (props.dataKey) grantKeyVia(props.dataKey, 'secretsmanager', fn, 'kms:Decrypt');
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::SwitchyardServerPublicKey',
      // A new generation re-runs the resource, so the output follows a rotated secret.
      properties: {
        SecretArn: props.serverKey.secretArn,
        Generation: String(props.config.serverKeyGeneration),
      },
    });
    this.publicKey = resource.getAttString('PublicKey');
    acknowledge(
      fn,
      'Serverless-LambdaDLQ',
      'Invoked by CloudFormation for a custom resource: CloudFormation waits for the answer and fails ' +
        'the deployment (and rolls back) if none comes, so a dead-letter queue would have nothing to replay.',
    );
  }
}
