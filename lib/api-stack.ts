/**
 * The stateless half: one Lambda function per manifest entry, the WebSocket API (chat switch,
 * directory lookups) and the HTTP API (directory, Safe), each route wired to the function the
 * manifest names. Nothing here is specific to one function: a new manifest entry gets its function,
 * routes, environment and grants without touching this file.
 */

import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  ApiMapping,
  type CfnApi,
  CfnIntegrationResponse,
  CorsHttpMethod,
  type CorsPreflightOptions,
  DomainName,
  HttpApi,
  type HttpMethod,
  HttpStage,
  SecurityPolicy,
  WebSocketApi,
  WebSocketIntegration,
  WebSocketStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpLambdaIntegration,
  WebSocketLambdaIntegration,
  WebSocketMockIntegration,
} from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate, CertificateValidation, type ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { AaaaRecord, ARecord, HostedZone, type IHostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { FUNCTIONS, type FunctionSpec, MOCK_WS_ROUTES, WS_STAGE } from '../contract/manifest.ts';
import { metricsNamespace } from '../contract/metrics.ts';
import type { TableName } from '../contract/schema.ts';
import { ROUTE_SELECTION_EXPRESSION } from '../protocol/frames.ts';
import type { CustomDomains, SwitchyardConfig } from './config.ts';
import { OperationsAlarms } from './constructs/alarms.ts';
import { OperationsDashboard } from './constructs/dashboard.ts';
import { type ConnectionsManagement, ManifestFunction } from './constructs/manifest-function.ts';
import { ServerPublicKey } from './constructs/server-public-key.ts';
import { VaultSetup } from './constructs/vault-setup.ts';
import { PushCredentials, WakeupStream } from './constructs/wakeups.ts';
import { acknowledge } from './nag.ts';

/** Where the Safe routes live on the HTTP API; clients are configured with `{HttpApiUrl}safe/`. */
const SAFE_PATH = 'safe/';

/** WebSocket routes whose Lambda result is not a message to the caller. */
const CONNECTION_ROUTES: ReadonlySet<string> = new Set(['$connect', '$disconnect']);

const HTTP_ROUTE = /^(ANY|GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH) (\/\S*)$/;

export interface ApiStackProps extends StackProps {
  readonly config: SwitchyardConfig;
  readonly tables: Readonly<Record<TableName, ITable>>;
  readonly safeBucket: IBucket;
  /** The media bucket (stateful stack). */
  readonly mediaBucket: IBucket;
  /** The server's long-term key (stateful stack). */
  readonly serverKey: ISecret;
  /**
   * The customer-managed key of the data (stateful stack) and of the functions' log groups.
   * @default - none: AWS-owned and AWS-managed keys
   */
  readonly dataKey?: IKey;
  /**
   * The functions to deploy.
   * @default FUNCTIONS from contract/manifest.ts
   */
  readonly functions?: Readonly<Record<string, FunctionSpec>>;
}

export class ApiStack extends Stack {
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  readonly httpApi: HttpApi;
  readonly httpStage: HttpStage;
  /** One per manifest entry, by manifest name. */
  readonly functions: Readonly<Record<string, ManifestFunction>>;
  /** Errors and throttles of every function and both APIs. */
  readonly alarms: OperationsAlarms;
  /** Traffic, errors, throttles and cost drivers: counts only. */
  readonly dashboard: OperationsDashboard;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const specs = props.functions ?? FUNCTIONS;
    assertUniqueRoutes(specs);

    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      // A display name only: API names need not be unique, so this fixes no physical name.
      apiName: `${this.stackName}-chat`,
      routeSelectionExpression: ROUTE_SELECTION_EXPRESSION,
      description: 'Switchyard chat switch',
    });
    // With custom domains, clients must come through them (and their TLS policy): the default
    // execute-api endpoints are switched off. The WebSocket L2 has no prop for it (the CFN API has).
    const customDomainsOnly = config.customDomains !== undefined;
    if (customDomainsOnly) (this.webSocketApi.node.defaultChild as CfnApi).disableExecuteApiEndpoint = true;
    this.webSocketStage = new WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: WS_STAGE,
      autoDeploy: true,
      throttle: { rateLimit: config.wsRateLimit, burstLimit: config.wsBurstLimit },
    });

    // The stage is created explicitly (not createDefaultStage) so its throttle is set through the L2.
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${this.stackName}-http`,
      description: 'Switchyard directory and Safe',
      createDefaultStage: false,
      // Set only with custom domains, so a deployment without them synthesizes exactly as before.
      ...(customDomainsOnly ? { disableExecuteApiEndpoint: true } : {}),
      ...(config.webOrigins ? { corsPreflight: webCors(config.webOrigins) } : {}),
    });
    this.httpStage = new HttpStage(this, 'HttpStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: { rateLimit: config.httpRateLimit, burstLimit: config.httpBurstLimit },
    });

    // Imported by complete ARN, so the grant names exactly this secret.
    const safeAuthSecret =
      config.safeBasicAuthSecretArn === undefined
        ? undefined
        : Secret.fromSecretCompleteArn(this, 'SafeBasicAuthSecret', config.safeBasicAuthSecretArn);

    // A disabled execute-api endpoint answers `@connections` calls with 403 too, so with custom
    // domains the functions push through the WebSocket domain (mapped at its root to the stage).
    const stage = this.webSocketStage;
    const connections: ConnectionsManagement = {
      callbackUrl: config.customDomains
        ? `https://${config.customDomains.webSocketDomainName}`
        : stage.callbackUrl,
      grantManagementApiAccess: (grantee) => stage.grantManagementApiAccess(grantee),
    };

    // The vault's OPRF setup, beside the one function that may use it (lib/constructs/vault-setup.ts).
    const vaultSetup = Object.values(specs).some((spec) => spec.holdsVaultSetup)
      ? new VaultSetup(this, 'VaultSetup')
      : undefined;

    // Push wake-up credentials, for the functions that send or hand out the VAPID key.
    const pushCredentials = Object.values(specs).some((spec) => spec.pushCredentials)
      ? new PushCredentials(this, 'PushCredentials', {
          config,
          ...(props.dataKey ? { dataKey: props.dataKey } : {}),
        })
      : undefined;

    const functions: Record<string, ManifestFunction> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const fn = new ManifestFunction(this, name, {
        name,
        spec,
        tables: props.tables,
        safeBucket: props.safeBucket,
        mediaBucket: props.mediaBucket,
        connections,
        config,
        ...(safeAuthSecret ? { safeAuthSecret } : {}),
        serverKey: props.serverKey,
        ...(props.dataKey ? { dataKey: props.dataKey } : {}),
        ...(vaultSetup ? { vaultSetup } : {}),
        ...(pushCredentials ? { pushCredentials } : {}),
      });
      functions[name] = fn;
      this.addWebSocketRoutes(name, spec, fn);
      this.addHttpRoutes(name, spec, fn);
      if (spec.schedule) {
        // Timer functions (the login-deadline reaper) run from an EventBridge schedule.
        const rule = new Rule(this, `${name}Schedule`, {
          schedule: Schedule.expression(spec.schedule),
          targets: [new LambdaFunction(fn.function)],
        });
        acknowledge(
          rule,
          'Serverless-EventBusDLQ',
          'The schedule delivers empty timer events: one that cannot be delivered is superseded by the ' +
            'next, so a dead-letter queue would hold nothing worth replaying.',
        );
      }
    }
    this.addMockWebSocketRoutes();
    this.functions = functions;

    this.alarms = new OperationsAlarms(this, 'Alarms', {
      functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.function])),
      httpApi: this.httpApi,
      webSocketApi: this.webSocketApi,
      webSocketStage: this.webSocketStage,
      tables: props.tables,
      namespace: metricsNamespace(config.stage),
      ...(config.alarmEmail ? { email: config.alarmEmail } : {}),
    });

    // Stream functions (the wake-ups) read their table's stream, with a dead-letter queue and alarms.
    for (const [name, spec] of Object.entries(specs)) {
      const fn = functions[name];
      if (!spec.stream || !fn) continue;
      new WakeupStream(this, `${name}Stream`, {
        fn: fn.function,
        table: props.tables[spec.stream as TableName],
        topic: this.alarms.topic,
      });
      acknowledge(
        fn,
        'AwsSolutions-IAM5[Resource::*]',
        'The stream event source needs dynamodb:ListStreams, which IAM only grants on "*" (it names no ' +
          'table); the stream reads themselves (DescribeStream, GetRecords, GetShardIterator) are granted ' +
          "on this one table's stream ARN.",
      );
    }

    this.dashboard = new OperationsDashboard(this, 'Dashboard', {
      functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.function])),
      httpApi: this.httpApi,
      webSocketApi: this.webSocketApi,
      webSocketStage: this.webSocketStage,
      tables: props.tables,
      safeBucket: props.safeBucket,
      namespace: metricsNamespace(config.stage),
      ...(config.stage ? { stage: config.stage } : {}),
    });

    this.acknowledgeFindings();

    // With custom domains, clients can only use those.
    const urls = config.customDomains
      ? this.addCustomDomains(config.customDomains)
      : { webSocket: this.webSocketStage.url, http: this.httpStage.url };

    new CfnOutput(this, 'WebSocketUrl', {
      description: 'Chat switch endpoint for clients',
      value: urls.webSocket,
    });
    new CfnOutput(this, 'HttpApiUrl', {
      description: 'Directory and Safe base URL',
      value: urls.http,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm publishes to (subscribe to it for notifications)',
      value: this.alarms.topic.topicArn,
    });
    new CfnOutput(this, 'ServerPublicKey', {
      description: 'The server public key clients pin (hex)',
      value: new ServerPublicKey(this, 'ServerPublicKeyResource', {
        serverKey: props.serverKey,
        config,
        ...(props.dataKey ? { dataKey: props.dataKey } : {}),
      }).publicKey,
    });
    new CfnOutput(this, 'SafeUrl', {
      description: 'Custom Threema Safe server URL',
      value: `${urls.http}${SAFE_PATH}`,
    });
  }

  /**
   * Both APIs on their own custom domain (TLS 1.2), with the given certificate or one validated in
   * the hosted zone, and alias records there when a zone is configured. Returns the client URLs.
   */
  private addCustomDomains(domains: CustomDomains): { webSocket: string; http: string } {
    const zone: IHostedZone | undefined = domains.hostedZone
      ? HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
          hostedZoneId: domains.hostedZone.id,
          zoneName: domains.hostedZone.name,
        })
      : undefined;
    const certificate: ICertificate = domains.certificateArn
      ? Certificate.fromCertificateArn(this, 'Certificate', domains.certificateArn)
      : new Certificate(this, 'Certificate', {
          domainName: domains.httpDomainName,
          subjectAlternativeNames: [domains.webSocketDomainName],
          validation: CertificateValidation.fromDns(zone),
        });
    const mapped = [
      ['Http', domains.httpDomainName, this.httpApi, this.httpStage],
      ['WebSocket', domains.webSocketDomainName, this.webSocketApi, this.webSocketStage],
    ] as const;
    for (const [id, domainName, api, stage] of mapped) {
      const domain = new DomainName(this, `${id}Domain`, {
        domainName,
        certificate,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
      new ApiMapping(this, `${id}Mapping`, { api, domainName: domain, stage });
      if (zone) {
        const target = RecordTarget.fromAlias(
          new ApiGatewayv2DomainProperties(domain.regionalDomainName, domain.regionalHostedZoneId),
        );
        new ARecord(this, `${id}AliasA`, { zone, recordName: domainName, target });
        new AaaaRecord(this, `${id}AliasAaaa`, { zone, recordName: domainName, target });
      }
    }
    return {
      webSocket: `wss://${domains.webSocketDomainName}`,
      http: `https://${domains.httpDomainName}/`,
    };
  }

  private addWebSocketRoutes(name: string, spec: FunctionSpec, fn: ManifestFunction): void {
    if (spec.wsRoutes.length === 0) return;
    const integration = new WebSocketLambdaIntegration(`${name}Integration`, fn.function);
    for (const routeKey of spec.wsRoutes) {
      this.webSocketApi.addRoute(routeKey, {
        integration,
        // Replies to the frame's sender travel as the route response (DESIGN.md, Chat switch):
        // one call less per frame, and pushes stay under the @connections rate.
        returnResponse: !CONNECTION_ROUTES.has(routeKey),
      });
    }
  }

  /**
   * Routes API Gateway answers by itself (MOCK_WS_ROUTES, the `echo` keep-alive): a MOCK
   * integration (its request template only sets the status), an integration response whose
   * template is the constant reply, and a route response that sends it back to the caller. Two
   * API Gateway messages, no Lambda invocation.
   */
  private addMockWebSocketRoutes(): void {
    for (const [routeKey, reply] of Object.entries(MOCK_WS_ROUTES)) {
      // The reply is a VTL template: it must print itself, with nothing for VTL to expand.
      if (/[$#\\]/.test(reply))
        throw new Error(`Mock route "${routeKey}": reply is not a constant template.`);
      const id = `${routeKey}MockIntegration`;
      const route = this.webSocketApi.addRoute(routeKey, {
        integration: new WebSocketMockIntegration(id, {
          requestTemplates: { $default: '{"statusCode":200}' },
          templateSelectionExpression: '\\$default',
        }),
        returnResponse: true,
      });
      const integration = route.node.tryFindChild(id);
      if (!(integration instanceof WebSocketIntegration))
        throw new Error(`Mock route "${routeKey}": its integration was not found.`);
      new CfnIntegrationResponse(this, `${routeKey}MockIntegrationResponse`, {
        apiId: this.webSocketApi.apiId,
        integrationId: integration.integrationId,
        integrationResponseKey: '$default',
        templateSelectionExpression: '\\$default',
        responseTemplates: { $default: reply },
      });
    }
  }

  private addHttpRoutes(name: string, spec: FunctionSpec, fn: ManifestFunction): void {
    if (spec.httpRoutes.length === 0) return;
    const integration = new HttpLambdaIntegration(`${name}Integration`, fn.function);
    for (const routeKey of spec.httpRoutes) {
      const { method, path } = parseHttpRoute(name, routeKey);
      this.httpApi.addRoutes({ path, methods: [method], integration });
    }
  }

  private acknowledgeFindings(): void {
    const noAccessLogs =
      'No access logging on purpose: API Gateway access logs would record source IPs and request ' +
      'metadata per user, which the metadata-restraint invariant forbids. Functions log an ' +
      'allowlisted outcome line instead.';
    for (const stage of [this.webSocketStage, this.httpStage]) {
      acknowledge(stage, 'AwsSolutions-APIG1', noAccessLogs);
      acknowledge(stage, 'Serverless-APIGWAccessLogging', noAccessLogs);
    }
    acknowledge(
      this.webSocketApi,
      'AwsSolutions-APIG4',
      'Clients authenticate inside the protocol: the login proves possession of the identity key ' +
        'against a server challenge (DESIGN.md invariant 5), which an API Gateway authorizer cannot ' +
        'check; and only $connect could carry an authorizer at all.',
    );
    acknowledge(
      this.httpApi,
      'AwsSolutions-APIG4',
      'Public by design: Threema Safe backups are anonymous and addressed by a client-derived id, ' +
        'and directory requests prove key possession in the request itself. Optional HTTP Basic auth ' +
        'for private servers is answered by the functions (401 + WWW-Authenticate).',
    );
  }
}

/**
 * CORS for the browser client on other origins: the methods and request headers the SDK's directory
 * and Safe clients use, and the one response header they read that browsers hide by default.
 */
function webCors(origins: readonly string[]): CorsPreflightOptions {
  return {
    allowOrigins: [...origins],
    allowMethods: [
      CorsHttpMethod.GET,
      CorsHttpMethod.HEAD,
      CorsHttpMethod.POST,
      CorsHttpMethod.PUT,
      CorsHttpMethod.DELETE,
    ],
    allowHeaders: ['content-type', 'authorization', 'accept'],
    exposeHeaders: ['retry-after'],
    maxAge: Duration.days(1),
  };
}

/** `GET /safe/config` → GET + `/safe/config`; a malformed key fails the synth, naming the function. */
export function parseHttpRoute(functionName: string, routeKey: string): { method: HttpMethod; path: string } {
  const match = HTTP_ROUTE.exec(routeKey);
  if (!match) {
    throw new Error(
      `Function "${functionName}": HTTP route "${routeKey}" must look like "METHOD /path" ` +
        '(METHOD one of ANY, GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH).',
    );
  }
  return { method: match[1] as HttpMethod, path: match[2] as string };
}

/** Two functions claiming one route would otherwise surface as an opaque construct-id clash. */
function assertUniqueRoutes(specs: Readonly<Record<string, FunctionSpec>>): void {
  const owners = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    for (const key of [...spec.wsRoutes.map((r) => `ws ${r}`), ...spec.httpRoutes.map((r) => `http ${r}`)]) {
      const owner = owners.get(key);
      if (owner !== undefined) throw new Error(`Route "${key}" is served by both "${owner}" and "${name}".`);
      owners.set(key, name);
    }
  }
}
