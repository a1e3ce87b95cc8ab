import { join, relative } from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, Grant, type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  SystemLogLevel,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../contract/manifest.ts';
import { MEDIA_BUCKET, SAFE_BUCKET, type TableName } from '../../contract/schema.ts';
import { ENV } from '../../contract/settings.ts';
import type { SwitchyardConfig } from '../config.ts';
import { acknowledge, acknowledgeWildcardResources } from '../nag.ts';
import { BUNDLE_HANDLER, bundleSync, NODE_RUNTIME, REPO_ROOT } from './bundling.ts';
import type { VaultSetup } from './vault-setup.ts';
import type { PushCredentials } from './wakeups.ts';

export { NODE_RUNTIME, REPO_ROOT };

export interface BundledFunctionProps {
  /** Shown in the console; for manifest functions, the manifest name. */
  readonly description: string;
  /** Absolute path of the entry file (exports `handler`). */
  readonly entry: string;
  readonly projectRoot: string;
  readonly logRetentionDays: SwitchyardConfig['logRetentionDays'];
  readonly environment?: Record<string, string>;
  /** Reserved concurrency (the manifest's `reservedConcurrency`); absent: the account's pool. */
  readonly reservedConcurrency?: number;
  /**
   * Encrypts the log group (the key's policy must let CloudWatch Logs use it).
   * @default - CloudWatch Logs' own encryption
   */
  readonly logKey?: IKey;
}

/**
 * A Lambda function as every Switchyard function is built: esbuild-bundled ESM on arm64 and the
 * current Node.js runtime, its own log group with the configured retention, and its own role that
 * may write only to that group. Creates `Logs`, `Role` and `Function` in `scope`.
 */
export function bundledFunction(scope: Construct, props: BundledFunctionProps) {
  // Log lines come from an allowlist and carry no user data, so the group can go with the stack.
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: props.logRetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
    ...(props.logKey ? { encryptionKey: props.logKey } : {}),
  });
  // An own role instead of AWSLambdaBasicExecutionRole: that managed policy may create log groups
  // and write to any of them; this one may only write to its own group.
  const role = new Role(scope, 'Role', {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: `Switchyard ${props.description}`,
  });
  logGroup.grantWrite(role);
  const fn = new LambdaFunction(scope, 'Function', {
    description: props.description,
    code: bundledCode(props.entry, props.projectRoot),
    handler: BUNDLE_HANDLER,
    runtime: NODE_RUNTIME,
    architecture: Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.seconds(10),
    role,
    logGroup,
    loggingFormat: LoggingFormat.JSON,
    // Lambda's own START/END/REPORT lines (~500 B per invocation, INFO level) would cost more
    // log ingestion than the handler's line; durations, errors and throttles are metrics anyway,
    // and timeouts and crashes (WARN and up) are still logged.
    systemLogLevelV2: SystemLogLevel.WARN,
    ...(props.environment ? { environment: props.environment } : {}),
    ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
  });
  acknowledge(
    fn,
    'Serverless-LambdaTracing',
    'X-Ray tracing is off on purpose: a trace records, per request, which functions and AWS calls ran ' +
      "and when, linking a sender's send to the push onto a recipient's connection: the who-talks-to-" +
      'whom timing the metadata-restraint invariant keeps out of operator tools. Counts and durations ' +
      'come from the allowlisted log lines and their embedded metrics instead.',
  );
  return { function: fn, role, logGroup };
}

/**
 * The function's code: `entry` bundled by esbuild in this process (bundling.ts; no Docker), the AWS
 * SDK inside and split into chunks, which NodejsFunction cannot do (it always writes one file). As
 * with NodejsFunction, the asset's hash is that of the bundle.
 */
function bundledCode(entry: string, projectRoot: string) {
  return Code.fromAsset(projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Image and command are required by the type and never used: local bundling always succeeds
      // or throws. The command names the entry because CDK reuses one bundle for assets whose
      // options serialize alike, and `tryBundle` (a function) does not serialize: without it, every
      // function would get the first one's code (test/infra/nag.test.ts counts the bundles).
      image: DockerImage.fromRegistry('public.ecr.aws/lambda/nodejs:24'),
      command: ['esbuild', relative(projectRoot, entry)],
      local: {
        tryBundle(outputDir) {
          bundleSync(entry, outputDir);
          return true;
        },
      },
    },
  });
}

/** Where a managed-connections function may push: the WebSocket stage's `@connections` API. */
export interface ConnectionsManagement {
  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}`, handed to the function. */
  readonly callbackUrl: string;
  /** Grants `execute-api:ManageConnections` on the stage's connections only. */
  grantManagementApiAccess(grantee: IGrantable): Grant;
}

export interface ManifestFunctionProps {
  /** The function's name in the manifest; also its description, so tests and consoles can find it. */
  readonly name: string;
  /** What the function is: entry, routes, and the exact access it needs. */
  readonly spec: FunctionSpec;
  /** Every table, by schema name; the function gets the names and grants of those in `spec.tables`. */
  readonly tables: Readonly<Record<TableName, ITable>>;
  /** The Safe bucket; used only when `spec.safeBucket` lists actions. */
  readonly safeBucket: IBucket;
  /** The media bucket; used only when `spec.mediaBucket` lists actions. */
  readonly mediaBucket: IBucket;
  /** The WebSocket stage; used only when `spec.manageConnections` is set. */
  readonly connections: ConnectionsManagement;
  /** The deployment's configuration: log retention and the values handed to the function. */
  readonly config: SwitchyardConfig;
  /**
   * The Safe's Basic auth secret, handed to functions with `spec.readsSafeAuthSecret`.
   * @default - none: the Safe is open
   */
  readonly safeAuthSecret?: ISecret;
  /** The server's long-term key, handed to functions with `spec.readsServerKey`. */
  readonly serverKey: ISecret;
  /**
   * The vault's OPRF setup secret and its own key, handed to functions with `spec.holdsVaultSetup`.
   * @default - none: no function holds it
   */
  readonly vaultSetup?: VaultSetup;
  /**
   * The push credentials, handed to functions with `spec.pushCredentials`.
   * @default - none: no function sends wake-ups
   */
  readonly pushCredentials?: PushCredentials;
  /**
   * The customer-managed key of the tables, bucket, server key and log group; each grant of data
   * access then comes with the KMS actions that access needs, through that data's service only.
   * @default - none: AWS-owned and AWS-managed keys, nothing to grant
   */
  readonly dataKey?: IKey;
  /**
   * Directory that `spec.entry` is relative to.
   * @default REPO_ROOT
   */
  readonly projectRoot?: string;
}

/**
 * One Lambda function built from a manifest entry: an esbuild-bundled ESM handler on arm64, its own
 * log group and role, exactly the environment variables its configuration parser reads, and
 * exactly the grants the manifest lists. Routes are attached by the API stack.
 */
export class ManifestFunction extends Construct {
  /** The Lambda function; its description is the manifest name. */
  readonly function: LambdaFunction;
  /** The function's own execution role, holding exactly the manifest's grants plus logging. */
  readonly role: Role;
  /** The function's own log group, with the configured retention. */
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ManifestFunctionProps) {
    super(scope, id);
    const { name, spec, config } = props;
    const projectRoot = props.projectRoot ?? REPO_ROOT;

    const built = bundledFunction(this, {
      description: name,
      entry: join(projectRoot, spec.entry),
      projectRoot,
      logRetentionDays: config.logRetentionDays,
      environment: this.environment(props),
      ...(spec.reservedConcurrency ? { reservedConcurrency: spec.reservedConcurrency } : {}),
      ...(props.dataKey ? { logKey: props.dataKey } : {}),
    });
    this.function = built.function;
    this.role = built.role;
    this.logGroup = built.logGroup;

    this.grant(props);
    acknowledge(
      this.function,
      'Serverless-LambdaDLQ',
      spec.stream
        ? 'Invoked by a DynamoDB stream event source mapping: a record that fails every try goes to the ' +
            "mapping's on-failure destination (an SQS dead-letter queue with an alarm); a function " +
            'dead-letter queue applies only to asynchronous invocations, which this function never gets.'
        : spec.schedule
          ? 'Invoked by an EventBridge schedule whose events carry no data: a failed run is superseded by ' +
            "the next one (the sweep is idempotent) and raises the function's error alarm, so a " +
            'dead-letter queue would only collect empty timer events.'
          : 'Invoked synchronously by API Gateway: a failure is answered to the client at once with a ' +
            'documented error code and the client retries; there is no asynchronous event for a ' +
            'dead-letter queue to keep (and keeping requests would keep metadata).',
    );
  }

  /** Exactly the variables `configFromEnv` reads for this spec. */
  private environment({
    spec,
    tables,
    safeBucket,
    mediaBucket,
    connections,
    config,
    safeAuthSecret,
    serverKey,
    vaultSetup,
    pushCredentials,
  }: ManifestFunctionProps) {
    const environment: Record<string, string> = {
      // Every function parses these (lambdas/runtime/env.ts), so every function gets the
      // configured values rather than silently falling back to the defaults.
      [ENV.messageTtlDays]: String(config.messageTtlDays),
      [ENV.safeMaxBackupBytes]: String(config.safeMaxBackupBytes),
      [ENV.safeRetentionDays]: String(config.safeRetentionDays),
      [ENV.mediaMaxBlobBytes]: String(config.mediaMaxBlobBytes),
      [ENV.mediaTtlDays]: String(config.mediaTtlDays),
      [ENV.mediaQuotaBytes]: String(config.mediaQuotaBytes),
      [ENV.registrationPolicy]: config.registrationPolicy,
      // The metrics' namespace (lambdas/runtime/aws.ts); absent, `Switchyard`.
      ...(config.stage ? { [ENV.stage]: config.stage } : {}),
    };
    for (const table of tableNames(spec)) environment[ENV.tables[table]] = tables[table].tableName;
    if (spec.safeBucket.length > 0) environment[ENV.safeBucket] = safeBucket.bucketName;
    if ((spec.mediaBucket ?? []).length > 0) environment[ENV.mediaBucket] = mediaBucket.bucketName;
    if (spec.manageConnections) environment[ENV.managementEndpoint] = connections.callbackUrl;
    if (spec.readsSafeAuthSecret && safeAuthSecret) {
      environment[ENV.safeBasicAuthSecretArn] = safeAuthSecret.secretArn;
    }
    if (spec.readsServerKey) {
      environment[ENV.serverKeySecretArn] = serverKey.secretArn;
      environment[ENV.serverKeyGeneration] = String(config.serverKeyGeneration);
    }
    if (spec.holdsVaultSetup) {
      if (!vaultSetup) throw new Error(`Function "${spec.entry}" holds the vault setup, but none was given`);
      environment[ENV.vaultSetupSecretArn] = vaultSetup.secretArn;
    }
    if (spec.pushCredentials) {
      if (!pushCredentials)
        throw new Error(`Function "${spec.entry}" sends wake-ups, but no push credentials were given`);
      environment[ENV.pushVapidSecretArn] = pushCredentials.vapidSecretArn;
      environment[ENV.pushDebounceSeconds] = String(config.pushDebounceSeconds);
      if (config.pushVapidSubject) environment[ENV.pushVapidSubject] = config.pushVapidSubject;
      if (pushCredentials.fcm) environment[ENV.pushFcmSecretArn] = pushCredentials.fcm.secretArn;
      if (pushCredentials.apns) environment[ENV.pushApnsSecretArn] = pushCredentials.apns.secretArn;
    }
    if (spec.sendsVerificationCodes) {
      if (config.verificationEmailFrom) environment[ENV.verificationEmailFrom] = config.verificationEmailFrom;
      if (config.verificationSms) environment[ENV.verificationSms] = 'on';
    }
    return environment;
  }

  private grant({
    spec,
    tables,
    safeBucket,
    mediaBucket,
    connections,
    config,
    safeAuthSecret,
    serverKey,
    dataKey,
    vaultSetup,
    pushCredentials,
  }: ManifestFunctionProps): void {
    /** With a customer-managed key: `actions` on it, only when `service` calls KMS for this function. */
    const useKey = (service: 'dynamodb' | 's3' | 'secretsmanager', ...actions: string[]) => {
      if (dataKey) grantKeyVia(dataKey, service, this.function, ...actions);
    };

    if (spec.readsServerKey) {
      // Only reading the value: not secret.grantRead, which adds DescribeSecret.
      Grant.addToPrincipal({
        grantee: this.function,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [serverKey.secretArn],
      });
      useKey('secretsmanager', 'kms:Decrypt');
    }

    if (spec.holdsVaultSetup && vaultSetup) vaultSetup.grantTo(this.role);
    if (spec.pushCredentials && pushCredentials) pushCredentials.grantTo(this.function, spec.pushCredentials);

    // DynamoDB decrypts a table's own key with kms:Decrypt for every read and write.
    if (tableNames(spec).some((table) => (spec.tables[table] ?? []).length > 0)) {
      useKey('dynamodb', 'kms:Decrypt', 'kms:DescribeKey');
    }
    for (const table of tableNames(spec)) {
      const actions = spec.tables[table] ?? [];
      if (actions.length === 0) continue;
      const grant = tables[table].grant(this.function, ...actions);
      // With global secondary indexes, the grant also covers `<table>/index/*`.
      acknowledgeWildcardResources(
        this,
        grant,
        `The wildcard covers only the indexes of the ${table} table, for the same listed actions.`,
      );
    }

    /** Exact object actions under one prefix of one bucket, with the KMS actions they need. */
    const grantObjects = (actions: readonly string[], bucket: IBucket, prefix: string, why: string) => {
      if (actions.length === 0) return;
      // Reading an SSE-KMS object decrypts its data key; writing one generates it. (A presigned URL
      // is used with the signer's permissions, so the function that signs needs them too.)
      const kmsActions = [
        ...(actions.includes('s3:GetObject') ? ['kms:Decrypt'] : []),
        ...(actions.includes('s3:PutObject') ? ['kms:GenerateDataKey'] : []),
      ];
      if (kmsActions.length > 0) useKey('s3', ...kmsActions);
      const grant = Grant.addToPrincipal({
        grantee: this.function,
        actions: [...actions],
        resourceArns: [bucket.arnForObjects(`${prefix}*`)],
      });
      acknowledgeWildcardResources(this, grant, why);
    };
    grantObjects(
      spec.safeBucket,
      safeBucket,
      SAFE_BUCKET.backupPrefix,
      'Backup objects are named by client-derived ids that the server cannot know in advance; the ' +
        'grant is limited to the listed object actions under the backup prefix of the Safe bucket.',
    );
    grantObjects(
      spec.mediaBucket ?? [],
      mediaBucket,
      MEDIA_BUCKET.blobPrefix,
      'Blob objects are named by random ids made per upload; the grant is limited to the listed ' +
        'object actions under the blob prefix of the media bucket (no listing).',
    );

    if (spec.manageConnections) {
      const grant = connections.grantManagementApiAccess(this.function);
      acknowledgeWildcardResources(
        this,
        grant,
        'Pushes go to connection ids only known at run time; the grant is limited to the ' +
          '@connections API of this one WebSocket stage.',
      );
    }

    if (spec.readsSafeAuthSecret && safeAuthSecret) {
      // Only reading the value: not secret.grantRead, which adds DescribeSecret.
      Grant.addToPrincipal({
        grantee: this.function,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: [safeAuthSecret.secretArn],
      });
    }

    if (spec.sendsVerificationCodes && config.verificationEmailFrom) {
      Grant.addToPrincipal({
        grantee: this.function,
        actions: ['ses:SendEmail'],
        resourceArns: sesIdentityArns(this, config.verificationEmailFrom),
      });
    }

    if (spec.sendsVerificationCodes && config.verificationSms) {
      const grant = Grant.addToPrincipal({
        grantee: this.function,
        actions: ['sns:Publish'],
        resourceArns: ['*'],
      });
      // Publishing to a phone number has no resource ARN, so the Allow must be on "*"; this Deny
      // takes away every topic and platform endpoint (they all have an `arn:…:sns:…` ARN), which
      // leaves exactly SMS to phone numbers (AWS's documented way to allow SMS only).
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          effect: Effect.DENY,
          actions: ['sns:Publish'],
          resources: [Stack.of(this).formatArn({ service: 'sns', region: '*', account: '*', resource: '*' })],
        }),
      );
      acknowledgeWildcardResources(
        this,
        grant,
        'SMS verification codes are published straight to phone numbers, which have no ARN: ' +
          'sns:Publish to a phone number can only be allowed on "*". A Deny on every SNS ARN ' +
          '(arn:<partition>:sns:*:*:*) in the same policy takes away topics and platform endpoints, so ' +
          'only SMS remains; one action, for the one function that sends codes, only when SMS is on.',
      );
    }
  }
}

/**
 * Grants `actions` on a key in the stateful stack, to the grantee's own policy, only for calls that
 * `service` makes on its behalf (`kms:ViaService`), never for direct KMS calls. The key's policy
 * (lib/constructs/data-key.ts) lets account principals use it through those services only when
 * their IAM policy says so, which this grant does. Not `key.grant(new ViaServicePrincipal(…))`: that
 * also writes the role into the key's policy, which would make the stateful stack depend on this one.
 */
export function grantKeyVia(
  key: IKey,
  service: 'dynamodb' | 's3' | 'secretsmanager',
  grantee: IGrantable,
  ...actions: string[]
): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` } },
  });
}

/**
 * The SES identities that may authorise sending from `from`: the address itself and its domain
 * (SES checks whichever of the two the operator verified).
 */
export function sesIdentityArns(scope: Construct, from: string): string[] {
  const domain = from.slice(from.lastIndexOf('@') + 1);
  return [from, domain].map((resourceName) =>
    Stack.of(scope).formatArn({ service: 'ses', resource: 'identity', resourceName }),
  );
}

function tableNames(spec: FunctionSpec): TableName[] {
  return Object.keys(spec.tables) as TableName[];
}
