/**
 * One CloudWatch dashboard per deployment: traffic (messages in and out, deliveries, an estimate of
 * how the waiting messages grow), errors and throttles of every function, both APIs and every
 * table, and what drives the bill. Like the alarms (./alarms.ts) it reads counts and durations only,
 * whose dimensions are resource names the stack owns and the manifest names of functions — never
 * anything a client sent, so no widget can show an identity, key, hash or address.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { METRICS } from '../../contract/metrics.ts';

/** Every graph sums over this period. */
export const DASHBOARD_PERIOD = Duration.minutes(5);

export interface OperationsDashboardProps {
  /** The functions, by manifest name. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly httpApi: HttpApi;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  /** The tables, by schema name. */
  readonly tables: Readonly<Record<string, ITable>>;
  readonly safeBucket: IBucket;
  /** The namespace the functions publish their Faults metric to (contract/metrics.ts). */
  readonly namespace: string;
  /** Shown in the dashboard's title: the stage, or none. */
  readonly stage?: string;
}

export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const sum = { period: DASHBOARD_PERIOD, statistic: 'Sum' } as const;
    const fn = (name: string) => props.functions[name];
    const invocations = (name: string, label: string) => fn(name)?.metricInvocations({ ...sum, label });
    const ws = (metricName: string, label: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStage.stageName },
        label,
        ...sum,
      });
    const defined = (metrics: (IMetric | undefined)[]) =>
      metrics.filter((m): m is IMetric => m !== undefined);
    const graph = (title: string, left: (IMetric | undefined)[], width = 12) =>
      new GraphWidget({ title, left: defined(left), width, height: 6 });

    const traffic = [
      graph('Messages in and out (frames)', [
        invocations('wsSend', 'send frames (messages in)'),
        invocations('wsAck', 'ack frames (deliveries confirmed)'),
        invocations('wsPull', 'pull frames (backlog pages out)'),
      ]),
      graph('Connections', [
        ws('ConnectCount', 'connects'),
        ws('MessageCount', 'WebSocket messages (both ways)'),
        invocations('wsLogin', 'logins'),
      ]),
      graph('Waiting messages: growth estimate', [
        fn('wsSend') && fn('wsAck')
          ? new MathExpression({
              expression: 'FILL(sends, 0) - FILL(acks, 0)',
              label: 'send frames − ack frames (acks are batched: a trend, not a count)',
              period: DASHBOARD_PERIOD,
              usingMetrics: {
                sends: fn('wsSend')!.metricInvocations(sum),
                acks: fn('wsAck')!.metricInvocations(sum),
              },
            })
          : undefined,
      ]),
      graph('Directory and Safe (HTTP requests)', [
        props.httpApi.metricCount({ ...sum, label: 'requests' }),
        invocations('directory', 'directory'),
        invocations('safe', 'safe'),
      ]),
    ];

    const names = Object.keys(props.functions);
    const perFunction = (label: string, metric: (name: string) => IMetric) =>
      graph(label, names.map(metric), 24);
    const errors = [
      perFunction('Function errors (crashes, timeouts)', (name) =>
        fn(name)!.metricErrors({ ...sum, label: name }),
      ),
      perFunction(
        'Function faults (internal errors answered to clients)',
        (name) =>
          new Metric({
            namespace: props.namespace,
            metricName: METRICS.faults,
            dimensionsMap: { [METRICS.dimension]: name },
            label: name,
            ...sum,
          }),
      ),
      perFunction('Function throttles', (name) => fn(name)!.metricThrottles({ ...sum, label: name })),
      graph('HTTP API errors', [
        props.httpApi.metricClientError({ ...sum, label: '4xx (429 = throttled)' }),
        props.httpApi.metricServerError({ ...sum, label: '5xx' }),
      ]),
      graph('WebSocket API errors', [
        ws('ClientError', 'client errors (throttling included)'),
        ws('ExecutionError', 'execution errors'),
      ]),
      graph(
        'Table throttle events',
        Object.entries(props.tables).flatMap(([name, table]) => [
          table.metric('ReadThrottleEvents', { ...sum, label: `${name} reads` }),
          table.metric('WriteThrottleEvents', { ...sum, label: `${name} writes` }),
        ]),
        24,
      ),
    ];

    const cost = [
      graph('Cost: API requests', [
        props.httpApi.metricCount({ ...sum, label: 'HTTP requests' }),
        ws('MessageCount', 'WebSocket messages'),
      ]),
      perFunction('Cost: function time (ms, summed)', (name) =>
        fn(name)!.metricDuration({ ...sum, label: name }),
      ),
      graph(
        'Cost: table capacity consumed',
        Object.entries(props.tables).flatMap(([name, table]) => [
          table.metricConsumedReadCapacityUnits({ ...sum, label: `${name} read units` }),
          table.metricConsumedWriteCapacityUnits({ ...sum, label: `${name} write units` }),
        ]),
      ),
      graph('Cost: Safe storage (bytes, daily)', [
        new Metric({
          namespace: 'AWS/S3',
          metricName: 'BucketSizeBytes',
          dimensionsMap: { BucketName: props.safeBucket.bucketName, StorageType: 'StandardStorage' },
          statistic: 'Average',
          period: Duration.days(1),
          label: 'Safe backups',
        }),
      ]),
    ];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new TextWidget({
            markdown:
              `# Switchyard${props.stage ? ` (${props.stage})` : ''}\n` +
              'Counts and durations only. Waiting messages right now: `switchyard-ops usage` (docs/OPERATIONS.md).',
            width: 24,
            height: 2,
          }),
        ],
        traffic,
        errors,
        cost,
      ],
    });
  }
}
