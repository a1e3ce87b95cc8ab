import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../contract/manifest.ts';
import { METRICS } from '../../contract/metrics.ts';
import { TABLE_NAMES } from '../../contract/schema.ts';
import { ENV } from '../../lambdas/runtime/env.ts';
import { readConfig } from '../../lib/config.ts';
import { CLIENT_ERROR_PERCENT } from '../../lib/constructs/alarms.ts';
import { Switchyard } from '../../lib/switchyard.ts';

const cdkContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

type Json = Record<string, unknown>;

function synth(context: Json = {}) {
  const app = new App({ context: { ...cdkContext, ...context, 'aws:cdk:bundling-stacks': [] } });
  const { api, stateful } = new Switchyard(app, 'Switchyard', readConfig(app));
  return { api, stateful, template: Template.fromStack(api) };
}

let byDefault: ReturnType<typeof synth> | undefined;
/** The app from cdk.json's context plus `context`; the default one is synthesized once per file. */
function apiTemplate(context?: Json) {
  if (context) return synth(context);
  byDefault ??= synth();
  return byDefault;
}

interface MetricStat {
  Namespace: string;
  MetricName: string;
  Dimensions: { Name: string; Value: unknown }[];
}

/** Every metric an alarm reads, whether it is a plain metric alarm or a metric-math one. */
function metricsOf(alarm: Json): MetricStat[] {
  if (alarm.MetricName) {
    return [
      {
        Namespace: alarm.Namespace as string,
        MetricName: alarm.MetricName as string,
        Dimensions: (alarm.Dimensions ?? []) as MetricStat['Dimensions'],
      },
    ];
  }
  return (alarm.Metrics as { MetricStat?: { Metric: MetricStat } }[]).flatMap((m) =>
    m.MetricStat ? [{ ...m.MetricStat.Metric, Dimensions: m.MetricStat.Metric.Dimensions ?? [] }] : [],
  );
}

const alarmsOf = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Json);

/** The logical id of the function built from manifest entry `name`. */
function functionId(template: Template, name: string): string {
  const ids = Object.keys(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: name } }),
  );
  expect(ids, name).toHaveLength(1);
  return ids[0] as string;
}

describe('alarms', () => {
  const { api, stateful, template } = apiTemplate();
  const alarms = alarmsOf(template);
  const topicIds = Object.keys(template.findResources('AWS::SNS::Topic'));

  it('alarm on errors (crashes plus handled faults) and on throttles for every manifest function', () => {
    for (const name of Object.keys(FUNCTIONS)) {
      const ref = { Ref: functionId(template, name) };
      const reading = alarms.filter((alarm) =>
        metricsOf(alarm).some((m) => JSON.stringify(m.Dimensions).includes(JSON.stringify(ref))),
      );
      const errors = reading.filter((alarm) => metricsOf(alarm).some((m) => m.MetricName === 'Errors'));
      const throttles = reading.filter((alarm) => metricsOf(alarm).some((m) => m.MetricName === 'Throttles'));
      expect(errors, `${name} errors`).toHaveLength(1);
      expect(throttles, `${name} throttles`).toHaveLength(1);
      // The handler's own internal errors, which Lambda counts as successful invocations, are in it.
      expect(metricsOf(errors[0] as Json)).toContainEqual({
        Namespace: METRICS.namespace,
        MetricName: METRICS.faults,
        Dimensions: [{ Name: METRICS.dimension, Value: name }],
      });
      // A sum of metrics is missing wherever one term is: every summed metric is filled with 0.
      const expression = ((errors[0] as Json).Metrics as { Expression?: string }[]).find((m) => m.Expression);
      expect(expression?.Expression).toBe('FILL(crashes, 0) + FILL(faults, 0)');
      for (const alarm of [...errors, ...throttles]) {
        expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      }
    }
  });

  it('alarm on server errors and on the client-error share (where throttling shows) of both APIs', () => {
    const byMetric = (namespace: string, name: string) =>
      alarms.filter((alarm) =>
        metricsOf(alarm).some((m) => m.Namespace === namespace && m.MetricName === name),
      );
    expect(byMetric('AWS/ApiGateway', '5xx')).toHaveLength(1);
    expect(byMetric('AWS/ApiGateway', '4xx')).toHaveLength(1);
    expect(byMetric('AWS/ApiGateway', 'ExecutionError')).toHaveLength(1);
    expect(byMetric('AWS/ApiGateway', 'ClientError')).toHaveLength(1);
    for (const share of [
      ...byMetric('AWS/ApiGateway', '4xx'),
      ...byMetric('AWS/ApiGateway', 'ClientError'),
    ]) {
      expect(share.Threshold).toBe(CLIENT_ERROR_PERCENT);
    }
    // …and per stream function (the wake-ups): its dead-letter queue and its iterator age.
    const streams = Object.values(FUNCTIONS).filter((spec) => 'stream' in spec).length;
    expect(alarms).toHaveLength(2 * Object.keys(FUNCTIONS).length + 4 + TABLE_NAMES.length + 2 * streams);
  });

  it('alarm on throttled reads and writes of every table (a hot partition: one busy mailbox)', () => {
    for (const table of TABLE_NAMES) {
      const name = [{ Name: 'TableName', Value: api.resolve(stateful.tables[table].tableName) }];
      const reading = alarms.filter((alarm) =>
        metricsOf(alarm).some((m) => JSON.stringify(m.Dimensions) === JSON.stringify(name)),
      );
      expect(reading, table).toHaveLength(1);
      expect(metricsOf(reading[0] as Json).map((m) => m.MetricName)).toEqual([
        'ReadThrottleEvents',
        'WriteThrottleEvents',
      ]);
    }
  });

  it('read counts and durations only, keyed by resource names, never by anything a client sent', () => {
    for (const alarm of alarms) {
      for (const metric of metricsOf(alarm)) {
        expect(['AWS/Lambda', 'AWS/ApiGateway', 'AWS/DynamoDB', 'AWS/SQS', METRICS.namespace]).toContain(
          metric.Namespace,
        );
        for (const dimension of metric.Dimensions) {
          expect(['FunctionName', 'ApiId', 'Stage', 'TableName', 'QueueName', METRICS.dimension]).toContain(
            dimension.Name,
          );
          if (dimension.Name === METRICS.dimension) expect(Object.keys(FUNCTIONS)).toContain(dimension.Value);
        }
      }
    }
  });

  it('notify one encrypted, TLS-only topic on alarm and on recovery', () => {
    expect(topicIds).toHaveLength(1);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicIds[0] }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicIds[0] }]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
    // The topic's key (the vault setup has a key of its own, retained: lib/constructs/vault-setup.ts).
    const keyId = Object.keys(
      template.findResources('AWS::KMS::Key', { Properties: { EnableKeyRotation: true } }),
    ).filter((id) => !id.startsWith('VaultSetup'));
    expect(keyId).toHaveLength(1);
    // It guards alarm notices, not user data: it goes with the stack, after AWS's waiting period.
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Delete',
      Properties: { PendingWindowInDays: 7 },
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId[0], 'Arn'] },
    });
    // CloudWatch may use the key to publish (it can't with the AWS-managed aws/sns key).
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicIds[0] } });
  });

  it('subscribe the configured e-mail address, and only that', () => {
    const withEmail = apiTemplate({ alarmEmail: 'ops@example.org' }).template;
    withEmail.resourceCountIs('AWS::SNS::Subscription', 1);
    withEmail.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.org',
    });
  });
});

describe('custom domains', () => {
  const output = (template: Template, name: string) => template.findOutputs(name)[name]?.Value;

  it('are off by default: clients use the execute-api URLs', () => {
    const { template } = apiTemplate();
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    expect(JSON.stringify(output(template, 'WebSocketUrl'))).toContain('execute-api');
    expect(JSON.stringify(output(template, 'HttpApiUrl'))).toContain('execute-api');
    // Then the execute-api endpoints are the only ones, so they stay on.
    const apis = Object.values(template.findResources('AWS::ApiGatewayV2::Api'));
    expect(apis).toHaveLength(2);
    for (const api of apis) expect((api.Properties as Json).DisableExecuteApiEndpoint).toBeUndefined();
  });

  it.each([
    ['a hosted zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.org' }],
    [
      'an existing certificate',
      {
        certificateArn:
          'arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
      },
    ],
  ])(
    'with %s: switch off both execute-api endpoints, so clients only reach the custom domains',
    (_, extra) => {
      const { template } = apiTemplate({
        httpDomainName: 'api.example.org',
        webSocketDomainName: 'chat.example.org',
        ...extra,
      });
      for (const protocol of ['HTTP', 'WEBSOCKET']) {
        template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
          ProtocolType: protocol,
          DisableExecuteApiEndpoint: true,
        });
      }
    },
  );

  it('with a hosted zone: a DNS-validated certificate, both domains on TLS 1.2, alias records, new URLs', () => {
    const { api, template } = apiTemplate({
      httpDomainName: 'api.example.org',
      webSocketDomainName: 'Chat.Example.org',
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      hostedZoneName: 'example.org.',
    });
    template.resourceCountIs('AWS::CertificateManager::Certificate', 1);
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.example.org',
      SubjectAlternativeNames: ['chat.example.org'],
      ValidationMethod: 'DNS',
      DomainValidationOptions: Match.arrayWith([
        { DomainName: 'api.example.org', HostedZoneId: 'Z0123456789ABCDEFGHIJ' },
      ]),
    });
    const certificateId = Object.keys(template.findResources('AWS::CertificateManager::Certificate'))[0];
    for (const [domain, api_, stage] of [
      ['api.example.org', api.httpApi, api.httpStage],
      ['chat.example.org', api.webSocketApi, api.webSocketStage],
    ] as const) {
      template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
        DomainName: domain,
        DomainNameConfigurations: [
          { CertificateArn: { Ref: certificateId }, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' },
        ],
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
        ApiId: api.resolve(api_.apiId),
        Stage: api.resolve(stage.stageName),
      });
      for (const type of ['A', 'AAAA']) {
        template.hasResourceProperties('AWS::Route53::RecordSet', {
          Name: `${domain}.`,
          Type: type,
          HostedZoneId: 'Z0123456789ABCDEFGHIJ',
        });
      }
    }
    expect(output(template, 'WebSocketUrl')).toBe('wss://chat.example.org');
    expect(output(template, 'HttpApiUrl')).toBe('https://api.example.org/');
    expect(output(template, 'SafeUrl')).toBe('https://api.example.org/safe/');
    // With the execute-api endpoint off, `@connections` there answers 403: pushes go through the
    // WebSocket domain, whose mapping (no path) leads to the stage.
    const send = template.findResources('AWS::Lambda::Function', { Properties: { Description: 'wsSend' } });
    const props = Object.values(send)[0]!.Properties as { Environment: { Variables: Json } };
    expect(props.Environment.Variables[ENV.managementEndpoint]).toBe('https://chat.example.org');
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      ApiId: api.resolve(api.webSocketApi.apiId),
      ApiMappingKey: Match.absent(),
    });
  });

  it('with an existing certificate and no zone: no certificate request and no DNS records', () => {
    const certificateArn =
      'arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
    const { template } = apiTemplate({
      httpDomainName: 'api.example.org',
      webSocketDomainName: 'chat.example.org',
      certificateArn,
    });
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 2);
    template.allResourcesProperties('AWS::ApiGatewayV2::DomainName', {
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: certificateArn, SecurityPolicy: 'TLS_1_2' }),
      ],
    });
  });
});

describe('browser origins (CORS)', () => {
  it('are closed by default: no CORS on the HTTP API', () => {
    const { template } = apiTemplate();
    const api = Object.values(
      template.findResources('AWS::ApiGatewayV2::Api', { Properties: { ProtocolType: 'HTTP' } }),
    );
    expect(api).toHaveLength(1);
    expect((api[0]!.Properties as Json).CorsConfiguration).toBeUndefined();
  });

  it('let pages on the configured origins call the directory and the Safe', () => {
    const { template } = apiTemplate({ webOrigins: 'https://chat.example.org, https://Web.Example.org/' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: {
        AllowOrigins: ['https://chat.example.org', 'https://web.example.org'],
        AllowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
        AllowHeaders: ['content-type', 'authorization', 'accept'],
        ExposeHeaders: ['retry-after'],
        MaxAge: 86400,
      },
    });
  });
});

/**
 * The dashboard's body as JSON, every CloudFormation reference in it written `<ref:LogicalId>` (or
 * `<ref:…>` for one into another stack), so its metrics can be read.
 */
function dashboardBody(template: Template): { widgets: { properties: Json }[] } {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = (dashboards[0]!.Properties as Json).DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) =>
      typeof part === 'string'
        ? part
        : `<ref:${(part as { Ref?: string }).Ref ?? JSON.stringify(part).length}>`,
    )
    .join('');
  return JSON.parse(text);
}

describe('the dashboard', () => {
  const { template } = apiTemplate();
  const body = dashboardBody(template);
  const metrics = body.widgets.flatMap((widget) => (widget.properties.metrics ?? []) as unknown[][]);

  it("graphs every function's errors, faults, throttles and time", () => {
    for (const name of Object.keys(FUNCTIONS)) {
      const ref = `<ref:${functionId(template, name)}>`;
      for (const metric of ['Errors', 'Throttles', 'Duration']) {
        expect(
          metrics.some((m) => m.includes('AWS/Lambda') && m.includes(metric) && m.includes(ref)),
          `${name} ${metric}`,
        ).toBe(true);
      }
      expect(
        metrics.some((m) => m.includes(METRICS.namespace) && m.includes(METRICS.faults) && m.includes(name)),
        `${name} Faults`,
      ).toBe(true);
    }
  });

  it('graphs traffic, API and table errors and throttles, and the cost drivers', () => {
    const names = new Set(metrics.flatMap((m) => m.filter((part) => typeof part === 'string')));
    for (const name of [
      'MessageCount',
      'ConnectCount',
      'ClientError',
      'ExecutionError',
      'Count',
      '4xx',
      '5xx',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
      'BucketSizeBytes',
    ]) {
      expect(names.has(name), name).toBe(true);
    }
  });

  it('reads counts by resource and function name only: no dimension a client chooses', () => {
    const allowed = new Set([
      'FunctionName',
      'ApiId',
      'Stage',
      'TableName',
      'BucketName',
      'StorageType',
      METRICS.dimension,
    ]);
    for (const metric of metrics) {
      const [, , ...rest] = metric.filter((part) => typeof part === 'string') as string[];
      // [namespace, name, dimension, value, dimension, value, …]: the dimensions are the even ones.
      for (let i = 0; i < rest.length; i += 2) {
        const dimension = rest[i]!;
        if (dimension === '.' || dimension === '...') break;
        expect(allowed.has(dimension), `${metric.join(' ')}`).toBe(true);
      }
    }
  });
});
