/**
 * Alarms on errors and throttles for every function, both APIs and every table, publishing to one
 * SNS topic.
 * Every metric is a count or a duration; the only dimensions are resource names the stack owns
 * (function name, API id, stage) and the manifest name of a function — never anything a client
 * sent, so no alarm or metric can carry an identity, key, hash or address.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { HttpApi, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS } from '../../contract/metrics.ts';
import { acknowledge } from '../nag.ts';

/** Every alarm looks at sums over this period. */
export const ALARM_PERIOD = Duration.minutes(5);

/**
 * API Gateway has no throttle metric of its own: a throttled request is a 429 among the client
 * errors. An API's throttle alarm fires when client errors exceed this share of its requests…
 */
export const CLIENT_ERROR_PERCENT = 10;
/** …in a period with at least this many requests (a handful of bad requests is not an incident). */
export const CLIENT_ERROR_MIN_REQUESTS = 100;

export interface OperationsAlarmsProps {
  /** The functions to watch, by manifest name. */
  readonly functions: Readonly<Record<string, IFunction>>;
  readonly httpApi: HttpApi;
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  /** The tables to watch for throttling, by schema name. */
  readonly tables: Readonly<Record<string, ITable>>;
  /** The namespace the functions publish their Faults metric to (contract/metrics.ts). */
  readonly namespace: string;
  /**
   * Subscribed to the topic by e-mail.
   * @default - no subscription
   */
  readonly email?: string;
}

export class OperationsAlarms extends Construct {
  /** Every alarm publishes here, on alarm and back to OK. */
  readonly topic: Topic;
  /** By name: `<function>Errors`, `<function>Throttles`, `HttpApiErrors`, … */
  readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    // A customer-managed key: CloudWatch can't publish to a topic encrypted with aws/sns.
    // It protects alarm notices only, no user data: it goes with the stack (after AWS's waiting period).
    const key = new Key(this, 'TopicKey', {
      description: 'Switchyard alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { masterKey: key, enforceSSL: true });
    if (props.email) {
      this.topic.addSubscription(new EmailSubscription(props.email));
      acknowledge(
        this.topic,
        'Serverless-SNSRedrivePolicy',
        'The one subscription is an operator e-mail address; a notification that cannot be delivered ' +
          "is still visible as the alarm's state and history in CloudWatch, so a dead-letter queue " +
          'would keep only copies of that.',
      );
    }

    const alarms: Record<string, Alarm> = {};
    const notify = new SnsAction(this.topic);
    const add = (name: string, description: string, metric: IMetric, threshold = 1) => {
      const alarm = new Alarm(this, name, {
        alarmDescription: `Switchyard: ${description}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      alarms[name] = alarm;
    };

    for (const [name, fn] of Object.entries(props.functions)) {
      add(
        `${name}Errors`,
        `${name} failed: crashes and timeouts (Lambda Errors) plus internal errors its handler answered (Faults)`,
        new MathExpression({
          // FILL: Faults has data only in periods with faults, and a sum with a missing term is missing.
          expression: 'FILL(crashes, 0) + FILL(faults, 0)',
          label: `${name} errors`,
          period: ALARM_PERIOD,
          usingMetrics: {
            crashes: fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
            faults: new Metric({
              namespace: props.namespace,
              metricName: METRICS.faults,
              dimensionsMap: { [METRICS.dimension]: name },
              period: ALARM_PERIOD,
              statistic: 'Sum',
            }),
          },
        }),
      );
      add(
        `${name}Throttles`,
        `${name} was throttled (Lambda concurrency)`,
        fn.metricThrottles({ period: ALARM_PERIOD, statistic: 'Sum' }),
      );
    }

    const http = (metric: (options: { period: Duration; statistic: string }) => Metric) =>
      metric.call(props.httpApi, { period: ALARM_PERIOD, statistic: 'Sum' });
    add('HttpApiErrors', 'HTTP API answered with 5xx', http(props.httpApi.metricServerError));
    add(
      'HttpApiThrottles',
      `HTTP API: more than ${CLIENT_ERROR_PERCENT} % client errors (4xx; throttling is a 429)`,
      clientErrorShare(http(props.httpApi.metricClientError), http(props.httpApi.metricCount)),
      CLIENT_ERROR_PERCENT,
    );

    const ws = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStage.stageName },
        period: ALARM_PERIOD,
        statistic: 'Sum',
      });
    add(
      'WebSocketApiErrors',
      'WebSocket API failed to call a function (ExecutionError)',
      ws('ExecutionError'),
    );
    add(
      'WebSocketApiThrottles',
      `WebSocket API: more than ${CLIENT_ERROR_PERCENT} % client errors (ClientError, throttling included)`,
      clientErrorShare(
        ws('ClientError'),
        new MathExpression({
          expression: 'FILL(messages, 0) + FILL(connects, 0)',
          period: ALARM_PERIOD,
          usingMetrics: { messages: ws('MessageCount'), connects: ws('ConnectCount') },
        }),
      ),
      CLIENT_ERROR_PERCENT,
    );
    // On-demand tables throttle too: one partition (one recipient's mailbox) past its write rate.
    // The SDK retries, then the client gets rate_limited, a rejection rather than a fault.
    for (const [name, table] of Object.entries(props.tables)) {
      const events = (metricName: string) =>
        table.metric(metricName, { period: ALARM_PERIOD, statistic: 'Sum' });
      add(
        `${name}TableThrottles`,
        `${name} table throttled reads or writes (a hot partition, e.g. one busy mailbox)`,
        new MathExpression({
          expression: 'FILL(reads, 0) + FILL(writes, 0)',
          label: `${name} throttle events`,
          period: ALARM_PERIOD,
          usingMetrics: { reads: events('ReadThrottleEvents'), writes: events('WriteThrottleEvents') },
        }),
      );
    }
    this.alarms = alarms;
  }
}

/** Client errors as a percentage of requests; 0 in a quiet period. */
function clientErrorShare(errors: IMetric, requests: IMetric): MathExpression {
  return new MathExpression({
    expression: `IF(requests >= ${CLIENT_ERROR_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
    label: 'client errors (%)',
    period: ALARM_PERIOD,
    usingMetrics: { errors, requests },
  });
}
