import { readFileSync } from 'node:fs';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionSpec, MOCK_WS_ROUTES, WS_STAGE } from '../../contract/manifest.ts';
import {
  type IndexSchema,
  MEDIA_BUCKET,
  SAFE_BUCKET,
  TABLE_NAMES,
  TABLES,
  type TableName,
} from '../../contract/schema.ts';
import { ENV } from '../../lambdas/runtime/env.ts';
import type { ApiStack } from '../../lib/api-stack.ts';
import type { SwitchyardConfig } from '../../lib/config.ts';
import { readConfig } from '../../lib/config.ts';
import { VAULT_KEY_ACTIONS, type VaultSetup } from '../../lib/constructs/vault-setup.ts';
import type { PushCredentials, WakeupStream } from '../../lib/constructs/wakeups.ts';
import type { StatefulStack } from '../../lib/stateful-stack.ts';
import { Switchyard } from '../../lib/switchyard.ts';
import { ECHO_FRAME, ROUTE_SELECTION_EXPRESSION } from '../../protocol/frames.ts';

const cdkContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Json>;
}

interface Synth {
  config: SwitchyardConfig;
  specs: Readonly<Record<string, FunctionSpec>>;
  stateful: StatefulStack;
  api: ApiStack;
  statefulTemplate: Template;
  apiTemplate: Template;
}

/** The app as bin/switchyard.ts builds it, from cdk.json's context plus `context`; no bundling. */
function synth(context: Json = {}, functions?: Readonly<Record<string, FunctionSpec>>): Synth {
  const app = new App({ context: { ...cdkContext, ...context, 'aws:cdk:bundling-stacks': [] } });
  const { config, stateful, api } = new Switchyard(app, 'Switchyard', {
    ...readConfig(app),
    ...(functions ? { functions } : {}),
  });
  return {
    config,
    specs: functions ?? FUNCTIONS,
    stateful,
    api,
    statefulTemplate: Template.fromStack(stateful),
    apiTemplate: Template.fromStack(api),
  };
}

/**
 * A function the manifest does not have, exercising every path at once: HTTP routes (ANY too),
 * message routes, several tables, the bucket, pushes, the Basic auth secret and verification codes.
 * Its routes are named so that no real manifest entry will ever claim them.
 */
const EVERYTHING: FunctionSpec = {
  entry: FUNCTIONS.wsDefault.entry,
  httpRoutes: ['GET /infra-test/config', 'ANY /infra-test/{proxy+}'],
  wsRoutes: ['infraTestSend', 'infraTestAck'],
  tables: {
    mailbox: ['dynamodb:PutItem', 'dynamodb:Query'],
    connections: ['dynamodb:GetItem'],
    identities: ['dynamodb:Query'],
  },
  safeBucket: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
  manageConnections: true,
  readsSafeAuthSecret: true,
  sendsVerificationCodes: true,
};
const EXTRA_FUNCTIONS = { ...FUNCTIONS, everything: EVERYTHING };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:switchyard/safe-auth-AbC123';
const CUSTOM_CONFIG = {
  serverKeyGeneration: 3,
  messageTtlDays: 7,
  safeMaxBackupBytes: 100_000,
  safeRetentionDays: 30,
  logRetentionDays: 14,
  httpRateLimit: 20,
  httpBurstLimit: 40,
  wsRateLimit: 200,
  wsBurstLimit: 300,
  safeBasicAuthSecretArn: SECRET_ARN,
  verificationEmailFrom: 'codes@mail.example.org',
  verificationSms: true,
};

/** Each app is synthesized once per file, on first use, and shared by every test. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}
const realApp = once(() => synth());
const extraApp = once(() => synth(CUSTOM_CONFIG, EXTRA_FUNCTIONS));

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

const actionsOf = (statement: Statement): string[] => [statement.Action].flat();
const resourcesOf = (statement: Statement): unknown[] => [statement.Resource].flat();

/** The function built from manifest entry `name` (its description is the name), with its role's policy. */
function functionOf(template: Template, name: string) {
  const found = Object.entries(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: name } }),
  );
  expect(found, `function ${name}`).toHaveLength(1);
  const [id, resource] = found[0] as [string, Json];
  const props = resource.Properties as Json;
  const roleId = ((props.Role as Json)['Fn::GetAtt'] as string[])[0] as string;
  const role = template.findResources('AWS::IAM::Role')[roleId] as Json;
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .map((policy) => policy.Properties as Json)
    .filter((policy) => (policy.Roles as Json[]).some((ref) => ref.Ref === roleId))
    .flatMap((policy) => (policy.PolicyDocument as { Statement: Statement[] }).Statement);
  const logGroupId = ((props.LoggingConfig as Json).LogGroup as Json).Ref as string;
  const env = ((props.Environment as Json | undefined)?.Variables ?? {}) as Json;
  return { id, props, role: role.Properties as Json, statements, logGroupId, env };
}

/** action → every resource it is allowed on (or, with `effect` Deny, denied on), as JSON, sorted. */
function grantsByAction(
  statements: Statement[],
  effect: 'Allow' | 'Deny' = 'Allow',
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const statement of statements) {
    expect(['Allow', 'Deny']).toContain(statement.Effect);
    if (statement.Effect !== effect) continue;
    for (const action of actionsOf(statement)) {
      out[action] = [...(out[action] ?? []), ...resourcesOf(statement).map((r) => JSON.stringify(r))].sort();
    }
  }
  return out;
}

/** The vault's setup secret and its key (the API stack makes one when a function holds it). */
/** A spec's manifest name in this synth. */
function nameOf(s: Synth, spec: FunctionSpec): string {
  return Object.entries(s.specs).find(([, candidate]) => candidate === spec)?.[0] ?? '';
}

function pushCredentialsOf(s: Synth): PushCredentials {
  return s.api.node.findChild('PushCredentials') as PushCredentials;
}

function vaultSetupOf(s: Synth): VaultSetup {
  return s.api.node.findChild('VaultSetup') as VaultSetup;
}

/** What the manifest says a function may do, as the API stack's template must spell it. */
function expectedGrants(s: Synth, spec: FunctionSpec): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (action: string, resource: string) => {
    out[action] = [...(out[action] ?? []), JSON.stringify(s.api.resolve(resource))].sort();
  };
  for (const [table, actions] of Object.entries(spec.tables) as [TableName, readonly string[]][]) {
    const arn = s.stateful.tables[table].tableArn;
    for (const action of actions) {
      add(action, arn);
      // A table's grant also covers its own indexes (and only those).
      if ('indexes' in TABLES[table] || 'localIndexes' in TABLES[table]) add(action, `${arn}/index/*`);
    }
  }
  for (const action of spec.safeBucket) {
    add(action, s.stateful.safeBucket.arnForObjects(`${SAFE_BUCKET.backupPrefix}*`));
  }
  for (const action of spec.mediaBucket ?? []) {
    add(action, s.stateful.mediaBucket.arnForObjects(`${MEDIA_BUCKET.blobPrefix}*`));
  }
  if (spec.manageConnections) {
    const apiArn = s.api.formatArn({ service: 'execute-api', resource: s.api.webSocketApi.apiId });
    add('execute-api:ManageConnections', `${apiArn}/${WS_STAGE}/*/@connections/*`);
  }
  if (spec.readsSafeAuthSecret && s.config.safeBasicAuthSecretArn) {
    add('secretsmanager:GetSecretValue', s.config.safeBasicAuthSecretArn);
  }
  if (spec.readsServerKey) add('secretsmanager:GetSecretValue', s.stateful.serverKey.secretArn);
  if (spec.holdsVaultSetup) {
    const setup = vaultSetupOf(s);
    add('secretsmanager:GetSecretValue', setup.secretArn);
    add('secretsmanager:PutSecretValue', setup.secretArn);
    for (const action of VAULT_KEY_ACTIONS) add(action, setup.key.keyArn);
  }
  if (spec.sendsVerificationCodes && s.config.verificationEmailFrom) {
    // The sender's address and its domain: SES authorises against whichever is verified.
    for (const identity of [s.config.verificationEmailFrom, s.config.verificationEmailFrom.split('@')[1]!]) {
      add('ses:SendEmail', s.api.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }));
    }
  }
  // SMS to a phone number has no resource ARN; this is the one grant on "*" (topics are denied).
  if (spec.sendsVerificationCodes && s.config.verificationSms) add('sns:Publish', '*');
  if (spec.pushCredentials) {
    const vapid = pushCredentialsOf(s).vapidSecretArn;
    add('secretsmanager:GetSecretValue', vapid);
    add('secretsmanager:PutSecretValue', vapid);
    if (spec.pushCredentials === 'all') {
      for (const arn of [s.config.pushFcmSecretArn, s.config.pushApnsSecretArn]) {
        if (arn) add('secretsmanager:GetSecretValue', arn);
      }
    }
  }
  if (spec.stream) {
    // The stream event source: reads on the table's stream, and ListStreams, which IAM grants on "*" only.
    const stream = s.stateful.tables[spec.stream].tableStreamArn!;
    for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'])
      add(action, stream);
    add('dynamodb:ListStreams', '*');
    // The mapping's on-failure destination: the dead-letter queue.
    const queue = (s.api.node.findChild(`${nameOf(s, spec)}Stream`) as WakeupStream).deadLetters.queueArn;
    for (const action of ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']) add(action, queue);
  }
  return out;
}

/** What a function is denied: with SMS codes, publishing to any SNS ARN (every topic and endpoint). */
function expectedDenials(s: Synth, spec: FunctionSpec): Record<string, string[]> {
  return spec.sendsVerificationCodes && s.config.verificationSms
    ? { 'sns:Publish': [JSON.stringify(SNS_EVERY_ARN)] }
    : {};
}

/** `arn:<partition>:sns:*:*:*`: every topic and platform endpoint, in any Region and account. */
const SNS_EVERY_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:*:*:*']] };

/** A route's integration URI names the function it invokes. */
function routeTargets(template: Template, type: 'WebSocket' | 'HTTP', routeKey: string): string {
  const apiId = Object.keys(
    template.findResources('AWS::ApiGatewayV2::Api', {
      Properties: { ProtocolType: type === 'HTTP' ? 'HTTP' : 'WEBSOCKET' },
    }),
  )[0];
  const routes = Object.values(
    template.findResources('AWS::ApiGatewayV2::Route', {
      Properties: { RouteKey: routeKey, ApiId: { Ref: apiId } },
    }),
  );
  expect(routes, `${type} route ${routeKey}`).toHaveLength(1);
  const target = JSON.stringify((routes[0] as Json).Properties);
  const integrationId = /"integrations\/",\{"Ref":"([^"]+)"\}/.exec(target)?.[1] as string;
  const integration = template.findResources('AWS::ApiGatewayV2::Integration')[integrationId] as Json;
  return JSON.stringify((integration.Properties as Json).IntegrationUri);
}

describe.each([
  ['the real manifest with cdk.json defaults', realApp],
  ['an extra Safe + push function with custom config', extraApp],
])('stacks built from %s', (_, build) => {
  let s: Synth;
  beforeAll(() => {
    s = build();
  });

  describe('tables', () => {
    it.each(TABLE_NAMES)(
      'builds %s from the schema module: keys, billing, TTL, PITR, retention, deletion protection',
      (name) => {
        const schema = TABLES[name];
        const resource = s.statefulTemplate.findResources('AWS::DynamoDB::Table')[
          logicalId(s.stateful, s.stateful.tables[name])
        ] as Json;
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
        const props = resource.Properties as Json;
        const keys = [
          { AttributeName: schema.partitionKey.name, KeyType: 'HASH' },
          ...('sortKey' in schema ? [{ AttributeName: schema.sortKey.name, KeyType: 'RANGE' }] : []),
        ];
        expect(props.KeySchema).toEqual(keys);
        expect(props.BillingMode).toBe('PAY_PER_REQUEST');
        expect(props.PointInTimeRecoverySpecification).toEqual({
          PointInTimeRecoveryEnabled: schema.pointInTimeRecovery,
        });
        expect(props.TimeToLiveSpecification).toEqual(
          'ttlAttribute' in schema ? { AttributeName: schema.ttlAttribute, Enabled: true } : undefined,
        );
        expect(props.GlobalSecondaryIndexes).toEqual(
          'indexes' in schema
            ? schema.indexes.map((index: IndexSchema) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                  ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
                ],
                Projection:
                  index.include.length > 0
                    ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.include] }
                    : { ProjectionType: 'KEYS_ONLY' },
              }))
            : undefined,
        );
        expect(props.LocalSecondaryIndexes).toEqual(
          'localIndexes' in schema
            ? schema.localIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: schema.partitionKey.name, KeyType: 'HASH' },
                  { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              }))
            : undefined,
        );
        expect(props.SSESpecification).toEqual({ SSEEnabled: true });
        // RETAIN does not stop a DeleteTable call; deletion protection does.
        expect(props.DeletionProtectionEnabled).toBe(true);
        expect(props.TableName).toBeUndefined();
      },
    );

    it('keeps no point-in-time backups of delivered messages or sessions, but of identities', () => {
      expect(TABLES.mailbox.pointInTimeRecovery).toBe(false);
      expect(TABLES.connections.pointInTimeRecovery).toBe(false);
      expect(TABLES.identities.pointInTimeRecovery).toBe(true);
      expect(TABLES.mailbox.ttlAttribute).toBeDefined();
      expect(TABLES.connections.ttlAttribute).toBeDefined();
    });
  });

  describe('Safe bucket', () => {
    it('is private, encrypted, unversioned, unlogged, unnamed and retained', () => {
      s.statefulTemplate.hasResource('AWS::S3::Bucket', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectEquals({
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          OwnershipControls: Match.anyValue(),
          LifecycleConfiguration: Match.anyValue(),
        }),
      });
      const props = Object.values(s.statefulTemplate.findResources('AWS::S3::Bucket'))[0]?.Properties as Json;
      expect(props.LoggingConfiguration).toBeUndefined();
      expect(props.VersioningConfiguration).toBeUndefined();
      expect(props.BucketName).toBeUndefined();
    });

    it('refuses requests without TLS', () => {
      s.statefulTemplate.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(s.stateful, s.stateful.safeBucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('expires backups the configured number of days after their last PUT, and stale uploads after a day', () => {
      s.statefulTemplate.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectEquals({
              Id: Match.anyValue(),
              Status: 'Enabled',
              Prefix: SAFE_BUCKET.backupPrefix,
              ExpirationInDays: s.config.safeRetentionDays,
            }),
            Match.objectEquals({
              Id: Match.anyValue(),
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            }),
          ]),
        },
      });
    });
  });

  describe('functions', () => {
    it('outputs the server public key from a custom resource that may only read the key secret', () => {
      const outputs = s.apiTemplate.findOutputs('ServerPublicKey');
      expect(Object.keys(outputs)).toHaveLength(1);
      const resources = s.apiTemplate.findResources('Custom::SwitchyardServerPublicKey');
      expect(Object.values(resources)).toHaveLength(1);
      expect((Object.values(resources)[0]!.Properties as Json).SecretArn).toEqual(
        s.api.resolve(s.stateful.serverKey.secretArn),
      );
      // A rotation raises the generation, which re-runs the resource and refreshes the output.
      expect((Object.values(resources)[0]!.Properties as Json).Generation).toBe(
        String(s.config.serverKeyGeneration),
      );
      const fn = functionOf(s.apiTemplate, 'serverPublicKey');
      const rest = fn.statements.filter((st) => !actionsOf(st).some((a) => a.startsWith('logs:')));
      expect(grantsByAction(rest)).toEqual({
        'secretsmanager:GetSecretValue': [JSON.stringify(s.api.resolve(s.stateful.serverKey.secretArn))],
      });
    });

    it('builds one arm64 function per manifest entry on a Node.js runtime ≥ 22', () => {
      const fns = Object.values(s.apiTemplate.findResources('AWS::Lambda::Function'));
      // Plus the custom resource that reports the server public key.
      expect(fns.map((fn) => (fn.Properties as Json).Description).sort()).toEqual(
        [...Object.keys(s.specs), 'serverPublicKey'].sort(),
      );
      for (const fn of fns) {
        const props = fn.Properties as Json;
        expect(props.Architectures).toEqual(['arm64']);
        expect(Number(/^nodejs(\d+)\.x$/.exec(props.Runtime as string)?.[1])).toBeGreaterThanOrEqual(22);
        expect(props.Handler).toBe('index.handler');
        expect(props.MemorySize).toBe(256);
        // Below API Gateway's 29 s integration timeout, so a slow call fails in the function first.
        expect(props.Timeout).toBeLessThan(29);
        expect(props.FunctionName).toBeUndefined();
      }
    });

    it('grants each function exactly the manifest actions, on exactly the resources they name', () => {
      for (const [name, spec] of Object.entries(s.specs)) {
        const fn = functionOf(s.apiTemplate, name);
        const logs = fn.statements.filter((st) => actionsOf(st).some((a) => a.startsWith('logs:')));
        const rest = fn.statements.filter((st) => !logs.includes(st));
        expect(grantsByAction(rest), name).toEqual(expectedGrants(s, spec));
        expect(grantsByAction(rest, 'Deny'), name).toEqual(expectedDenials(s, spec));
        for (const statement of rest) {
          if (
            !actionsOf(statement).some((action) => ['sns:Publish', 'dynamodb:ListStreams'].includes(action))
          )
            expect(resourcesOf(statement), name).not.toContain('*');
        }
        // Logging: only into its own log group, no managed policy on the side.
        expect(grantsByAction(logs), name).toEqual({
          'logs:CreateLogStream': [JSON.stringify({ 'Fn::GetAtt': [fn.logGroupId, 'Arn'] })],
          'logs:PutLogEvents': [JSON.stringify({ 'Fn::GetAtt': [fn.logGroupId, 'Arn'] })],
        });
        expect(fn.role.ManagedPolicyArns, name).toBeUndefined();
        expect(fn.role.Policies, name).toBeUndefined();
      }
    });

    it('sets exactly the environment variables each function parses', () => {
      for (const [name, spec] of Object.entries(s.specs)) {
        const expected: Json = {
          [ENV.messageTtlDays]: String(s.config.messageTtlDays),
          [ENV.safeMaxBackupBytes]: String(s.config.safeMaxBackupBytes),
          [ENV.safeRetentionDays]: String(s.config.safeRetentionDays),
          [ENV.mediaMaxBlobBytes]: String(s.config.mediaMaxBlobBytes),
          [ENV.mediaTtlDays]: String(s.config.mediaTtlDays),
          [ENV.mediaQuotaBytes]: String(s.config.mediaQuotaBytes),
          [ENV.registrationPolicy]: s.config.registrationPolicy,
        };
        for (const table of Object.keys(spec.tables) as TableName[]) {
          expected[ENV.tables[table]] = s.api.resolve(s.stateful.tables[table].tableName);
        }
        if (spec.safeBucket.length > 0)
          expected[ENV.safeBucket] = s.api.resolve(s.stateful.safeBucket.bucketName);
        if ((spec.mediaBucket ?? []).length > 0)
          expected[ENV.mediaBucket] = s.api.resolve(s.stateful.mediaBucket.bucketName);
        if (spec.manageConnections) {
          expected[ENV.managementEndpoint] = s.api.resolve(s.api.webSocketStage.callbackUrl);
        }
        if (spec.readsServerKey) {
          expected[ENV.serverKeySecretArn] = s.api.resolve(s.stateful.serverKey.secretArn);
          expected[ENV.serverKeyGeneration] = String(s.config.serverKeyGeneration);
        }
        if (spec.readsSafeAuthSecret && s.config.safeBasicAuthSecretArn) {
          expected[ENV.safeBasicAuthSecretArn] = s.config.safeBasicAuthSecretArn;
        }
        if (spec.holdsVaultSetup)
          expected[ENV.vaultSetupSecretArn] = s.api.resolve(vaultSetupOf(s).secretArn);
        if (spec.sendsVerificationCodes && s.config.verificationEmailFrom)
          expected[ENV.verificationEmailFrom] = s.config.verificationEmailFrom;
        if (spec.sendsVerificationCodes && s.config.verificationSms) expected[ENV.verificationSms] = 'on';
        if (spec.pushCredentials) {
          expected[ENV.pushVapidSecretArn] = s.api.resolve(pushCredentialsOf(s).vapidSecretArn);
          expected[ENV.pushDebounceSeconds] = String(s.config.pushDebounceSeconds);
          if (s.config.pushVapidSubject) expected[ENV.pushVapidSubject] = s.config.pushVapidSubject;
          if (s.config.pushFcmSecretArn) expected[ENV.pushFcmSecretArn] = s.config.pushFcmSecretArn;
          if (s.config.pushApnsSecretArn) expected[ENV.pushApnsSecretArn] = s.config.pushApnsSecretArn;
        }
        expect(functionOf(s.apiTemplate, name).env, name).toEqual(expected);
      }
    });

    it('logs into its own group with the configured retention', () => {
      const groups = s.apiTemplate.findResources('AWS::Logs::LogGroup');
      for (const name of Object.keys(s.specs)) {
        const group = groups[functionOf(s.apiTemplate, name).logGroupId] as Json;
        expect((group.Properties as Json).RetentionInDays).toBe(s.config.logRetentionDays);
      }
    });

    it("writes only the handler's allowlisted line: JSON format, Lambda's own lines from WARN up", () => {
      for (const name of Object.keys(s.specs)) {
        const logging = functionOf(s.apiTemplate, name).props.LoggingConfig as Json;
        expect(logging, name).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN' });
      }
    });
  });

  describe('WebSocket API', () => {
    it('selects routes by the frame action and serves every manifest route with its function', () => {
      s.apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: ROUTE_SELECTION_EXPRESSION,
      });
      const keys = Object.values(s.specs).flatMap((spec) => [...spec.wsRoutes]);
      expect(keys).toEqual(expect.arrayContaining(['$connect', '$disconnect', '$default']));
      for (const [name, spec] of Object.entries(s.specs)) {
        const fnId = functionOf(s.apiTemplate, name).id;
        for (const key of spec.wsRoutes)
          expect(routeTargets(s.apiTemplate, 'WebSocket', key)).toContain(fnId);
      }
    });

    it('returns the function result to the sender on message routes only', () => {
      const routes = s.apiTemplate.findResources('AWS::ApiGatewayV2::Route', {
        Properties: { ApiId: { Ref: logicalId(s.api, s.api.webSocketApi) } },
      });
      const responses = Object.values(s.apiTemplate.findResources('AWS::ApiGatewayV2::RouteResponse')).map(
        (r) => ((r.Properties as Json).RouteId as Json).Ref,
      );
      for (const [id, route] of Object.entries(routes)) {
        const props = route.Properties as Json;
        const isMessageRoute = !['$connect', '$disconnect'].includes(props.RouteKey as string);
        expect(props.RouteResponseSelectionExpression, props.RouteKey as string).toBe(
          isMessageRoute ? '$default' : undefined,
        );
        expect(responses.includes(id), props.RouteKey as string).toBe(isMessageRoute);
      }
    });

    it('answers echo itself: a MOCK integration whose route response is the constant frame, no function', () => {
      expect(MOCK_WS_ROUTES).toEqual({ echo: ECHO_FRAME });
      const apiRef = { Ref: logicalId(s.api, s.api.webSocketApi) };
      const routes = Object.entries(
        s.apiTemplate.findResources('AWS::ApiGatewayV2::Route', {
          Properties: { ApiId: apiRef, RouteKey: 'echo' },
        }),
      );
      expect(routes).toHaveLength(1);
      const [routeId, route] = routes[0]!;
      expect((route.Properties as Json).RouteResponseSelectionExpression).toBe('$default');
      const integrationId = /"integrations\/",\{"Ref":"([^"]+)"\}/.exec(
        JSON.stringify(route.Properties),
      )?.[1];
      const integration = s.apiTemplate.findResources('AWS::ApiGatewayV2::Integration')[integrationId!];
      expect(integration?.Properties).toEqual({
        ApiId: apiRef,
        IntegrationType: 'MOCK',
        IntegrationUri: '',
        RequestTemplates: { $default: '{"statusCode":200}' },
        TemplateSelectionExpression: '\\$default',
      });
      s.apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::IntegrationResponse', {
        ApiId: apiRef,
        IntegrationId: { Ref: integrationId },
        IntegrationResponseKey: '$default',
        TemplateSelectionExpression: '\\$default',
        ResponseTemplates: { $default: ECHO_FRAME },
      });
      s.apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::RouteResponse', {
        ApiId: apiRef,
        RouteId: { Ref: routeId },
        RouteResponseKey: '$default',
      });
      // No function serves echo: not in the manifest, and no Lambda integration reaches it.
      for (const spec of Object.values(s.specs)) expect(spec.wsRoutes).not.toContain('echo');
      expect(JSON.stringify(integration)).not.toContain('lambda');
    });

    it(`is served on the "${WS_STAGE}" stage, throttled, without access logs`, () => {
      s.apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: logicalId(s.api, s.api.webSocketApi) },
        StageName: WS_STAGE,
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: s.config.wsRateLimit,
          ThrottlingBurstLimit: s.config.wsBurstLimit,
        },
        AccessLogSettings: Match.absent(),
      });
    });
  });

  describe('HTTP API', () => {
    it('reserves concurrency for revocation only: a scrypt flood is throttled there, not everywhere', () => {
      const fns = Object.values(s.apiTemplate.findResources('AWS::Lambda::Function'));
      const reserved = fns
        .map((fn) => fn.Properties as Json)
        .filter((props) => props.ReservedConcurrentExecutions !== undefined)
        .map((props) => [props.Description, props.ReservedConcurrentExecutions]);
      const wanted = Object.entries(s.specs as Record<string, FunctionSpec>)
        .filter(([, spec]) => spec.reservedConcurrency !== undefined)
        .map(([name, spec]) => [name, spec.reservedConcurrency]);
      expect(wanted).toContainEqual(['revoke', 4]);
      expect(reserved.sort()).toEqual(wanted.sort());
      // The revocation route goes to that function, not to the directory's catch-all.
      const target = routeTargets(s.apiTemplate, 'HTTP', 'POST /directory/revoke');
      expect(target).toContain(functionOf(s.apiTemplate, 'revoke').id);
      expect(target).not.toContain(functionOf(s.apiTemplate, 'directory').id);
    });

    it('serves every manifest HTTP route with its function', () => {
      for (const [name, spec] of Object.entries(s.specs)) {
        const fnId = functionOf(s.apiTemplate, name).id;
        for (const key of spec.httpRoutes) expect(routeTargets(s.apiTemplate, 'HTTP', key)).toContain(fnId);
      }
    });

    it('has one throttled default stage without access logs', () => {
      const stages = s.apiTemplate.findResources('AWS::ApiGatewayV2::Stage', {
        Properties: { ApiId: { Ref: logicalId(s.api, s.api.httpApi) } },
      });
      expect(Object.values(stages).map((stage) => stage.Properties)).toEqual([
        {
          ApiId: { Ref: logicalId(s.api, s.api.httpApi) },
          StageName: '$default',
          AutoDeploy: true,
          DefaultRouteSettings: {
            ThrottlingRateLimit: s.config.httpRateLimit,
            ThrottlingBurstLimit: s.config.httpBurstLimit,
          },
        },
      ]);
    });
  });

  it('synthesizes without CDK warnings or errors', () => {
    for (const stack of [s.stateful, s.api]) {
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue()), stack.stackName).toEqual([]);
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue()), stack.stackName).toEqual([]);
    }
  });

  it('outputs the WebSocket, HTTP and Safe URLs', () => {
    const outputs = s.apiTemplate.findOutputs('*');
    const url = (name: string) => flatten((outputs[name] as Json).Value);
    expect(url('WebSocketUrl')).toMatch(
      new RegExp(`^wss://<${logicalId(s.api, s.api.webSocketApi)}>\\..*/${WS_STAGE}$`),
    );
    expect(url('HttpApiUrl')).toMatch(new RegExp(`^https://<${logicalId(s.api, s.api.httpApi)}>\\..*/$`));
    expect(url('SafeUrl')).toBe(`${url('HttpApiUrl')}safe/`);
  });
});

describe('API stack with an extra manifest entry', () => {
  let s: Synth;
  beforeAll(() => {
    s = extraApp();
  });

  it('scopes Safe access to backup objects, pushes to the stage connections, auth to one secret', () => {
    const grants = grantsByAction(functionOf(s.apiTemplate, 'everything').statements);
    expect(grants['s3:PutObject']?.map((r) => flatten(JSON.parse(r)))).toEqual([
      expect.stringMatching(/\/backups\/\*$/),
    ]);
    expect(grants['execute-api:ManageConnections']?.map((r) => flatten(JSON.parse(r)))).toEqual([
      `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(s.api, s.api.webSocketApi)}>/${WS_STAGE}/*/@connections/*`,
    ]);
    expect(grants['secretsmanager:GetSecretValue']).toEqual([JSON.stringify(SECRET_ARN)]);
  });

  it('lets only code-sending functions send codes: SES from the sender identities, SNS to phones', () => {
    for (const name of ['directory', 'everything']) {
      const fn = functionOf(s.apiTemplate, name);
      const grants = grantsByAction(fn.statements);
      expect(
        grants['ses:SendEmail']?.map((r) => flatten(JSON.parse(r))),
        name,
      ).toEqual([
        'arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/codes@mail.example.org',
        'arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/mail.example.org',
      ]);
      // SMS only: allowed on "*" (a phone number has no ARN), denied on every topic and endpoint ARN.
      const sns = fn.statements
        .filter((st) => actionsOf(st).includes('sns:Publish'))
        .map(({ Effect, Action, Resource }) => ({ Effect, Action, Resource }));
      expect(sns, name).toEqual([
        { Effect: 'Allow', Action: 'sns:Publish', Resource: '*' },
        { Effect: 'Deny', Action: 'sns:Publish', Resource: SNS_EVERY_ARN },
      ]);
      expect(grants['sns:Publish'], name).toEqual([JSON.stringify('*')]);
      expect(fn.env[ENV.verificationEmailFrom], name).toBe('codes@mail.example.org');
      expect(fn.env[ENV.verificationSms], name).toBe('on');
    }
    for (const name of Object.keys(s.specs).filter((n) => !s.specs[n]!.sendsVerificationCodes)) {
      const fn = functionOf(s.apiTemplate, name);
      const actions = fn.statements.flatMap(actionsOf);
      expect(
        actions.filter((a) => a.startsWith('ses:') || a.startsWith('sns:')),
        name,
      ).toEqual([]);
      expect(
        Object.keys(fn.env).filter((key) => key.startsWith('VERIFICATION_')),
        name,
      ).toEqual([]);
    }
  });

  it('adds its HTTP route keys, ANY included, to the HTTP API', () => {
    for (const key of EVERYTHING.httpRoutes) {
      s.apiTemplate.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        ApiId: { Ref: logicalId(s.api, s.api.httpApi) },
        RouteKey: key,
      });
    }
  });
});

describe('encryption keys', () => {
  it('are AWS-owned and AWS-managed by default: no customer-managed key, no KMS cost', () => {
    const s = realApp();
    expect(s.stateful.dataKey).toBeUndefined();
    s.statefulTemplate.resourceCountIs('AWS::KMS::Key', 0);
    for (const group of Object.values(s.apiTemplate.findResources('AWS::Logs::LogGroup'))) {
      expect((group.Properties as Json).KmsKeyId).toBeUndefined();
    }
  });

  describe('with customerManagedKey', () => {
    let s: Synth;
    let keyArn: Json;
    beforeAll(() => {
      s = synth({ ...CUSTOM_CONFIG, customerManagedKey: true }, EXTRA_FUNCTIONS);
      keyArn = s.stateful.resolve(s.stateful.dataKey!.keyArn) as Json;
    });
    const account = {
      AWS: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']],
      },
    };
    const via = (service: string) => ({
      'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']],
    });
    /** What only reads or writes data, as opposed to administering the key. */
    const CRYPTO = /^kms:(Decrypt|Encrypt|ReEncrypt|GenerateDataKey|CreateGrant|Sign|Verify|GenerateMac)/;

    it('is one key, rotated, retained like the data it encrypts, and an output', () => {
      s.statefulTemplate.resourceCountIs('AWS::KMS::Key', 1);
      s.statefulTemplate.hasResource('AWS::KMS::Key', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: { EnableKeyRotation: true },
      });
      s.statefulTemplate.hasOutput('DataKeyArn', { Value: keyArn });
    });

    it('encrypts every table, the Safe bucket (with a bucket key) and the server key secret', () => {
      for (const name of TABLE_NAMES) {
        const table = s.statefulTemplate.findResources('AWS::DynamoDB::Table')[
          logicalId(s.stateful, s.stateful.tables[name])
        ] as Json;
        expect((table.Properties as Json).SSESpecification, name).toEqual({
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: keyArn,
        });
      }
      s.statefulTemplate.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            },
          ],
        },
      });
      s.statefulTemplate.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: keyArn });
    });

    it('encrypts every function log group with it', () => {
      const groups = Object.values(s.apiTemplate.findResources('AWS::Logs::LogGroup'));
      expect(groups.length).toBe(Object.keys(s.specs).length + 1);
      for (const group of groups) {
        expect((group.Properties as Json).KmsKeyId).toEqual(s.api.resolve(s.stateful.dataKey!.keyArn));
      }
    });

    it('lets the account administer the key but not use it, except through DynamoDB, S3 and Secrets Manager', () => {
      const key = Object.values(s.statefulTemplate.findResources('AWS::KMS::Key'))[0]!.Properties as Json;
      const statements = (key.KeyPolicy as { Statement: (Statement & Json)[] }).Statement;
      const bySid = Object.fromEntries(statements.filter((st) => st.Sid).map((st) => [st.Sid, st]));
      expect(bySid.AdministerWithoutUsing).toEqual({
        Sid: 'AdministerWithoutUsing',
        Effect: 'Allow',
        Principal: account,
        Resource: '*',
        Action: [
          'kms:CancelKeyDeletion',
          'kms:CreateAlias',
          'kms:DeleteAlias',
          'kms:DescribeKey',
          'kms:DisableKey',
          'kms:DisableKeyRotation',
          'kms:EnableKey',
          'kms:EnableKeyRotation',
          'kms:GetKeyPolicy',
          'kms:GetKeyRotationStatus',
          'kms:List*',
          'kms:PutKeyPolicy',
          'kms:RevokeGrant',
          'kms:RotateKeyOnDemand',
          'kms:ScheduleKeyDeletion',
          'kms:TagResource',
          'kms:UntagResource',
          'kms:UpdateAlias',
          'kms:UpdateKeyDescription',
        ],
      });
      expect(bySid.UseOnlyThroughTheDataServices).toEqual({
        Sid: 'UseOnlyThroughTheDataServices',
        Effect: 'Allow',
        Principal: account,
        Resource: '*',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Condition: {
          StringEquals: {
            'kms:CallerAccount': { Ref: 'AWS::AccountId' },
            'kms:ViaService': [via('dynamodb'), via('s3'), via('secretsmanager')],
          },
        },
      });
      expect(bySid.LetDynamoDbKeepItsGrants).toEqual({
        Sid: 'LetDynamoDbKeepItsGrants',
        Effect: 'Allow',
        Principal: account,
        Resource: '*',
        Action: 'kms:CreateGrant',
        Condition: {
          StringEquals: { 'kms:CallerAccount': { Ref: 'AWS::AccountId' }, 'kms:ViaService': via('dynamodb') },
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
        },
      });
      expect(bySid.CloudWatchLogsForThisAccountsLogGroups).toEqual({
        Sid: 'CloudWatchLogsForThisAccountsLogGroups',
        Effect: 'Allow',
        Principal: { Service: via('logs') },
        Resource: '*',
        Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':logs:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':log-group:*',
                ],
              ],
            },
          },
        },
      });
      // Whatever else is in the policy (the secret adds its own Secrets Manager statement): nothing
      // lets a principal of the account decrypt, encrypt or hand out grants except through a service.
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        if (!actionsOf(statement).some((action) => CRYPTO.test(action))) continue;
        const principal = (statement as Json).Principal as Json;
        if ('Service' in principal) {
          expect(principal).toEqual({ Service: via('logs') });
          continue;
        }
        expect(principal).toEqual(account);
        const viaService = ((statement as Json).Condition as Record<string, Json>).StringEquals?.[
          'kms:ViaService'
        ];
        expect(viaService, JSON.stringify(statement)).toBeDefined();
      }
    });

    it('grants each function the KMS actions its data access needs, on this key, through that service only', () => {
      const key = s.api.resolve(s.stateful.dataKey!.keyArn);
      for (const [name, spec] of Object.entries(s.specs)) {
        const expected: Record<string, string[]> = {};
        const add = (service: string, ...actions: string[]) => {
          expected[service] = [...new Set([...(expected[service] ?? []), ...actions])].sort();
        };
        if (Object.values(spec.tables).some((actions) => (actions ?? []).length > 0))
          add('dynamodb', 'kms:Decrypt', 'kms:DescribeKey');
        for (const actions of [spec.safeBucket, spec.mediaBucket ?? []]) {
          if (actions.includes('s3:GetObject')) add('s3', 'kms:Decrypt');
          if (actions.includes('s3:PutObject')) add('s3', 'kms:GenerateDataKey');
        }
        if (spec.readsServerKey) add('secretsmanager', 'kms:Decrypt');
        // The VAPID secret: read, and written once (push functions).
        if (spec.pushCredentials) add('secretsmanager', 'kms:Decrypt', 'kms:GenerateDataKey');
        if (spec.stream) add('stream', 'kms:Decrypt', 'kms:DescribeKey');
        const granted: Record<string, string[]> = {};
        for (const statement of functionOf(s.apiTemplate, name).statements) {
          const kms = actionsOf(statement).filter((action) => action.startsWith('kms:'));
          // The vault setup's own key (its tests below), not the data key.
          if (kms.length === 0 || JSON.stringify(statement.Resource).includes('VaultSetupKey')) continue;
          // A stream function reads the table's stream directly (Lambda's poller, not a DynamoDB call
          // on its behalf): CDK grants kms:Decrypt and kms:DescribeKey on the table's key without a
          // ViaService condition.
          if (spec.stream && statement.Condition === undefined) {
            expect(kms, name).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
            expect(statement.Resource, name).toEqual(key);
            granted.stream = [...(granted.stream ?? []), ...kms].sort();
            continue;
          }
          expect(statement.Effect, name).toBe('Allow');
          expect(statement.Resource, name).toEqual(key);
          const service = JSON.stringify(statement.Condition?.StringEquals?.['kms:ViaService']);
          const match = /"([a-z0-9]+)\."/.exec(service)?.[1] as string;
          expect(service, name).toBe(JSON.stringify(via(match)));
          granted[match] = [...(granted[match] ?? []), ...kms].sort();
        }
        expect(granted, name).toEqual(expected);
      }
      const reader = functionOf(s.apiTemplate, 'serverPublicKey').statements.filter((st) =>
        actionsOf(st).some((a) => a.startsWith('kms:')),
      );
      expect(reader).toEqual([
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: key,
          Condition: { StringEquals: { 'kms:ViaService': via('secretsmanager') } },
        },
      ]);
    });
  });
});

describe('API stack misuse', () => {
  it('rejects a malformed HTTP route key, naming the function', () => {
    const bad = { broken: { ...EVERYTHING, wsRoutes: [], httpRoutes: ['FETCH /safe'] } };
    expect(() => synth({}, bad)).toThrow(/"broken".*"FETCH \/safe"/);
  });

  it('rejects two functions claiming one route', () => {
    const twice = { ...FUNCTIONS, again: { ...FUNCTIONS.wsConnect } };
    expect(() => synth({}, twice)).toThrow(/"ws \$connect" is served by both "wsConnect" and "again"/);
  });
});

/** Joins a CloudFormation expression into text, references as `<LogicalId>` (as cdk-nag names them). */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const obj = value as Json;
  if (obj['Fn::Join']) {
    const [delimiter, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(delimiter);
  }
  if (obj['Fn::GetAtt']) return `<${(obj['Fn::GetAtt'] as string[]).join('.')}>`;
  if (obj['Fn::ImportValue']) return flatten(obj['Fn::ImportValue']);
  if (obj.Ref) return `<${obj.Ref as string}>`;
  return JSON.stringify(value);
}
