/**
 * The runner's stand-in for Lambda's DynamoDB stream event source: it reads DynamoDB Local's
 * stream of a table through the real DynamoDB Streams API (the AWS SDK pointed at DynamoDB Local),
 * keeps the records the function's filter pattern passes (contract/streams.ts, Lambda's filter
 * syntax), and invokes the function's handler with the same event Lambda builds, in batches of at
 * most `batchSize`. A batch item failure is tried again from the first failed record, at most
 * `retryAttempts` times; then the records are dropped with one line on stderr (on AWS they go to the
 * dead-letter queue). Like a new event source mapping, it starts at the stream's end (LATEST).
 * When a read fails (DynamoDB Local busy or restarting), it reads again from where it was, as an
 * event source mapping resumes from its checkpoint: no record written meanwhile is skipped.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { StreamEvent, StreamResult } from '../contract/events.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { type ClientOptions, observed } from '../lambdas/runtime/sdk/options.ts';

export interface StreamSourceOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly pattern: unknown;
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly handler: (event: StreamEvent) => Promise<StreamResult>;
  /** How often an idle shard is asked for records (ms); Lambda polls about four times a second. */
  readonly pollMs?: number;
  /** Where a dropped batch is reported (default stderr); the line carries counts only. */
  readonly onDropped?: (records: number) => void;
  /** Fault injection for the tests: every DynamoDB Streams request attempt is asked (see ClientOptions). */
  readonly injectFault?: ClientOptions['injectFault'];
}

/** Lambda's event filter syntax, as far as the patterns here use it: value lists and `exists`. */
export function matchesPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((option) => {
      if (typeof option === 'object' && option !== null && 'exists' in option)
        return (option as { exists: boolean }).exists === (value !== undefined);
      return option === value;
    });
  }
  if (typeof pattern === 'object' && pattern !== null) {
    const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    return Object.entries(pattern).every(([key, inner]) => matchesPattern(inner, fields[key]));
  }
  return false;
}

/** An attribute value as Lambda's JSON event carries it: binary as base64. */
function lambdaValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(lambdaValue);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, lambdaValue(inner)]));
  return value;
}

function lambdaRecord(record: StreamRecord, streamArn: string): StreamEvent['Records'][number] {
  const data = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: LOCAL_REGION,
    eventSourceARN: streamArn,
    dynamodb: lambdaValue({
      ...(data.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: Math.floor(data.ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
      Keys: data.Keys,
      ...(data.NewImage ? { NewImage: data.NewImage } : {}),
      ...(data.OldImage ? { OldImage: data.OldImage } : {}),
      SequenceNumber: data.SequenceNumber,
      SizeBytes: data.SizeBytes,
      StreamViewType: data.StreamViewType,
    }) as NonNullable<StreamEvent['Records'][number]['dynamodb']>,
  } as StreamEvent['Records'][number];
}

export function startStreamSource(options: StreamSourceOptions): { stop(): Promise<void> } {
  const config = { endpoint: options.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const dynamo = new DynamoDBClient(config);
  const streams = observed(new DynamoDBStreamsClient(config), 'DynamoDBStreams', {
    injectFault: options.injectFault,
  });
  const pollMs = options.pollMs ?? 250;
  const dropped =
    options.onDropped ??
    ((count: number) =>
      process.stderr.write(
        `switchyard: ${count} stream records failed every try; dropped (on AWS: the dead-letter queue)\n`,
      ));
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** Invokes the handler for `records` with Lambda's retry rule for batch item failures. */
  async function deliver(records: StreamEvent['Records']) {
    let pending = records;
    for (let attempt = 0; pending.length > 0 && !stopped; attempt++) {
      const result = await options.handler({ Records: pending }).catch(() => ({
        batchItemFailures: [{ itemIdentifier: pending[0]?.dynamodb?.SequenceNumber ?? '' }],
      }));
      const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
      const first = pending.findIndex((record) => failed.has(record.dynamodb?.SequenceNumber ?? ''));
      if (first < 0) return;
      pending = pending.slice(first);
      if (attempt >= options.retryAttempts) {
        dropped(pending.length);
        return;
      }
      await sleep(Math.min(1000 * 2 ** attempt, 10_000));
    }
  }

  /**
   * Each shard being read: the iterator to read with next, and the last record read from it, so
   * that after a failed read it goes on from there (a fresh iterator after that record when the
   * old one is no longer accepted). Kept across failures, like a mapping's checkpoint.
   */
  const shards = new Map<string, { iterator: string | undefined; after?: string }>();
  let streamArn: string | undefined;
  let first = true;

  async function iteratorFor(id: string, start: 'LATEST' | 'TRIM_HORIZON', after?: string) {
    const answer = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: id,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { ShardIteratorType: start }),
      }),
    );
    return answer.ShardIterator;
  }

  async function read(id: string, shard: { iterator: string | undefined; after?: string }) {
    try {
      return await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
      // The iterator is no longer accepted: a fresh one right after the last record read.
      shard.iterator = await iteratorFor(id, 'TRIM_HORIZON', shard.after);
      return streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    }
  }

  async function run() {
    if (!streamArn) {
      const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
      streamArn = table.Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
    }
    while (!stopped) {
      const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      for (const found of description.StreamDescription?.Shards ?? []) {
        const id = found.ShardId;
        if (!id || shards.has(id)) continue;
        // Shards open at start: from their end, like a new mapping; shards found later: from the start.
        const start = first && !found.SequenceNumberRange?.EndingSequenceNumber ? 'LATEST' : 'TRIM_HORIZON';
        if (first && start === 'TRIM_HORIZON') {
          shards.set(id, { iterator: undefined });
          continue;
        }
        shards.set(id, { iterator: await iteratorFor(id, start) });
      }
      first = false;
      let busy = false;
      for (const [id, shard] of shards) {
        if (!shard.iterator || stopped) continue;
        const page = await read(id, shard);
        const records = page.Records ?? [];
        const last = records.at(-1)?.dynamodb?.SequenceNumber;
        shard.iterator = page.NextShardIterator;
        if (last) shard.after = last;
        const passed = records
          .map((record) => lambdaRecord(record, streamArn!))
          .filter((record) => matchesPattern(options.pattern, record));
        for (let at = 0; at < passed.length; at += options.batchSize) {
          busy = true;
          await deliver(passed.slice(at, at + options.batchSize));
        }
      }
      if (!busy) await sleep(pollMs);
    }
  }

  const running = (async () => {
    while (!stopped) {
      await run().catch(async () => {
        // DynamoDB Local busy or restarting: go on from where each shard was, shortly.
        if (!stopped) await sleep(1000);
      });
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await running;
      dynamo.destroy();
      streams.destroy();
    },
  };
}
