/**
 * Push wake-ups on AWS: the VAPID key pair's secret (created empty; a push function fills it on
 * first use), the FCM and APNs secrets the operator configured (imported by complete ARN), and the
 * mailbox stream's event source mapping for the `wakeups` function with its filter, batching,
 * retries, a dead-letter queue and alarms on it (contract/streams.ts).
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { CfnSecret, type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WAKE_FILTER_PATTERN, WAKE_STREAM } from '../../contract/streams.ts';
import type { SwitchyardConfig } from '../config.ts';
import { acknowledge } from '../nag.ts';
import { ALARM_PERIOD } from './alarms.ts';

/** The push credentials: what the push functions are told and granted. */
export class PushCredentials extends Construct {
  readonly vapidSecretArn: string;
  readonly fcm?: ISecret;
  readonly apns?: ISecret;
  private readonly dataKey: IKey | undefined;

  constructor(
    scope: Construct,
    id: string,
    props: { readonly config: SwitchyardConfig; readonly dataKey?: IKey },
  ) {
    super(scope, id);
    this.dataKey = props.dataKey;
    // No value: the first push function to need the key pair makes it and writes it once.
    const vapid = new CfnSecret(this, 'VapidKey', {
      description: 'Switchyard push: the VAPID key pair (written by a push function on first use)',
      ...(props.dataKey ? { kmsKeyId: props.dataKey.keyArn } : {}),
    });
    // Browsers' subscriptions are bound to this key: a new one means every browser subscribes again.
    vapid.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.vapidSecretArn = vapid.ref;
    acknowledge(
      vapid,
      'AwsSolutions-SMG4',
      'Not rotated automatically: push services bind each browser subscription to this VAPID key, so a ' +
        'new key silently ends every Web Push subscription until each browser subscribes again.',
    );
    if (props.config.pushFcmSecretArn)
      this.fcm = Secret.fromSecretCompleteArn(this, 'Fcm', props.config.pushFcmSecretArn);
    if (props.config.pushApnsSecretArn)
      this.apns = Secret.fromSecretCompleteArn(this, 'Apns', props.config.pushApnsSecretArn);
  }

  /** `vapid`: read and write (once) the VAPID secret; `all`: also read the FCM and APNs secrets. */
  grantTo(grantee: IGrantable, what: 'vapid' | 'all'): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resourceArns: [this.vapidSecretArn],
    });
    if (this.dataKey) {
      Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resourceArns: [this.dataKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      });
    }
    if (what !== 'all') return;
    const others = [this.fcm, this.apns].filter((secret): secret is ISecret => secret !== undefined);
    if (others.length > 0) {
      // Only the value (not secret.grantRead, which adds DescribeSecret); their keys are the operator's.
      Grant.addToPrincipal({
        grantee,
        actions: ['secretsmanager:GetSecretValue'],
        resourceArns: others.map((secret) => secret.secretArn),
      });
    }
  }
}

export interface WakeupStreamProps {
  readonly fn: IFunction;
  readonly table: ITable;
  readonly topic: ITopic;
}

/**
 * The mailbox stream → `wakeups` mapping: only records that mean "a message waits for a recipient
 * the switch could not reach", in batches; a failed record is tried again (bisecting the batch),
 * then its metadata (never the item) goes to the dead-letter queue. Alarms: anything in that queue,
 * and a stream falling behind.
 */
export class WakeupStream extends Construct {
  readonly deadLetters: Queue;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: WakeupStreamProps) {
    super(scope, id);
    // What Lambda puts here is the batch's shard and sequence range, not the records themselves.
    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetters,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue (of the wake-up stream mapping); it holds failure records ' +
        'that an alarm reports, and needs no dead-letter queue of its own.',
    );
    acknowledge(
      this.deadLetters,
      'Serverless-SQSRedrivePolicy',
      'This queue is itself the dead-letter queue of the wake-up stream mapping; nothing consumes it ' +
        'to fail again, so there is nothing to redrive (an alarm reports what arrives).',
    );
    props.fn.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: WAKE_STREAM.batchSize,
        maxBatchingWindow: Duration.seconds(WAKE_STREAM.maxBatchingWindowSeconds),
        retryAttempts: WAKE_STREAM.retryAttempts,
        maxRecordAge: Duration.seconds(WAKE_STREAM.maxRecordAgeSeconds),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        parallelizationFactor: 1,
        filters: [FilterCriteria.filter(WAKE_FILTER_PATTERN as unknown as Record<string, unknown>)],
        onFailure: new SqsDlq(this.deadLetters),
      }),
    );
    const notify = new SnsAction(props.topic);
    const alarm = (name: string, description: string, options: ConstructorParameters<typeof Alarm>[2]) => {
      const made = new Alarm(this, name, { ...options, alarmDescription: `Switchyard: ${description}` });
      made.addAlarmAction(notify);
      made.addOkAction(notify);
      return made;
    };
    this.alarms = [
      alarm('DeadLettersAlarm', 'wake-ups failed every try (records in the wake-up dead-letter queue)', {
        metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({
          period: ALARM_PERIOD,
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      alarm('IteratorAgeAlarm', 'wake-ups fall behind the mailbox stream (iterator age over a minute)', {
        metric: props.fn.metric('IteratorAge', { period: ALARM_PERIOD, statistic: 'Maximum' }),
        threshold: 60_000,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
