/**
 * P3 AWS requests per delivered message — counted with SDK middleware on the runner's clients
 * (bench/instrument.ts), per route and operation — at 10 → 10,000 registered identities and
 * 10 → 1,000 open connections; and P4, the AWS cost per million 1 KiB messages computed from those
 * counts, the frames the clients saw, the handlers' measured durations, the stored items' sizes
 * and list prices (stated below with their date and Region).
 *
 * The traffic is the same at every scale point: 10 active clients, each sending 1 KiB messages to
 * random ones of the other nine and waiting for the server ack; everyone else registered or
 * connected is idle. A second scenario queues messages for offline recipients and delivers them
 * as the backlog at login.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FUNCTIONS } from '../contract/manifest.ts';
import { CONNECTIONS, EPHEMERAL, localTableName, MAILBOX } from '../contract/schema.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { readConfig } from '../lib/config.ts';
import { Switchyard } from '../lib/switchyard.ts';
import { KEEP_ALIVE_MS, LIMITS } from '../protocol/limits.ts';
import { Fleet, type FrameCounts, type Ledger } from './fleet.ts';
import {
  type ConsumedUnits,
  type InstrumentedRunner,
  OUTSIDE_ROUTES,
  QUIET_MS,
  requestCount,
  startInstrumentedRunner,
  type Tally,
} from './instrument.ts';
import {
  type BenchOptions,
  type BenchReport,
  fixed,
  loadAverage,
  machine,
  markdownTable,
  quantile,
  sleep,
  sum,
} from './support.ts';

const ACTIVE = 10;
const SCHEDULE_INTERVAL_MS = 10_000;
export const TARGET_REQUESTS = 3;
/** P4's goal: at most this many times the floor (below) per delivered message. */
export const TARGET_FLOOR_RATIO = 1.2;
/** The small message P4 also prices (its body, bytes), modelled from the same counts. */
const SMALL_BODY = 200;

/** One measured phase: what the handlers did and what the clients saw. */
export interface Phase {
  readonly label: string;
  readonly identities: number;
  readonly connections: number;
  readonly ledger: Ledger;
  readonly tally: Tally;
  readonly frames: FrameCounts;
}

/** Sizes (bytes, by DynamoDB's item size rules) of the items a message touches. */
export interface ItemSizes {
  readonly message: number;
  /** The recipient's owner record (active flag, live sessions, approximate counters). */
  readonly owner: number;
  readonly rateWindow: number;
  readonly connection: number;
  readonly identity: number;
}

export interface RequestsBenchResult {
  /** One message in flight at a time: counts at no concurrency, and the durations P4 prices. */
  readonly sequential: Phase;
  readonly identityScale: Phase[];
  readonly connectionScale: Phase[];
  readonly offlineSend: Phase;
  readonly offlineLogin: Phase;
  /** Every phase with the scheduled functions' runs (they log under their own route). */
  readonly scheduled: Tally['invocations'];
  readonly sizes: ItemSizes;
  readonly perSender: number;
  readonly load: readonly [number, number];
}

// ─── DynamoDB item sizes ────────────────────────────────────────────────────────────────────────

/** Size of one attribute value by DynamoDB's rules (numbers: about 1 byte per 2 significant digits + 1). */
function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 3 + sum(value.map((v) => valueSize(v) + 1));
  if (typeof value === 'object')
    return 3 + sum(Object.entries(value).map(([k, v]) => Buffer.byteLength(k) + valueSize(v) + 1));
  return 0;
}

export function itemSize(item: Record<string, unknown>): number {
  return sum(Object.entries(item).map(([name, value]) => Buffer.byteLength(name) + valueSize(value)));
}

/** Index entries carry the table's key, the index key, the projected attributes and 100 bytes. */
const INDEX_OVERHEAD = 100;

async function measureSizes(instrumented: InstrumentedRunner, recipient: string): Promise<ItemSizes> {
  const aws = createClients({
    endpoints: instrumented.runner.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const mailbox = await aws.dynamo.send(
      new QueryCommand({
        TableName: localTableName('mailbox'),
        KeyConditionExpression: '#r = :r',
        ExpressionAttributeNames: { '#r': MAILBOX.attributes.recipient },
        ExpressionAttributeValues: { ':r': recipient },
      }),
    );
    const items = mailbox.Items ?? [];
    const message = items.find((item) => String(item[MAILBOX.attributes.key]).startsWith('m#'));
    const owner = items.find((item) => item[MAILBOX.attributes.key] === '#owner');
    const scan = async (table: Parameters<typeof localTableName>[0]) =>
      (await aws.dynamo.send(new ScanCommand({ TableName: localTableName(table), Limit: 50 }))).Items ?? [];
    const rate = (await scan('ephemeral')).find((item) =>
      String(item[EPHEMERAL.attributes.key]).includes('send:'),
    );
    const connection = (await scan('connections')).find(
      (item) => item[CONNECTIONS.attributes.state] === 'ready',
    );
    const identity = (await scan('identities'))[0];
    if (!message || !owner || !rate || !connection || !identity)
      throw new Error('could not read the items to size');
    return {
      message: itemSize(message),
      owner: itemSize(owner),
      rateWindow: itemSize(rate),
      connection: itemSize(connection),
      identity: itemSize(identity),
    };
  } finally {
    aws.destroy();
  }
}

// ─── The run ────────────────────────────────────────────────────────────────────────────────────

function subtractFrames(after: FrameCounts, before: FrameCounts): FrameCounts {
  const out: FrameCounts = {};
  for (const [action, counts] of Object.entries(after)) {
    const b = before[action] ?? { in: 0, out: 0, bytesIn: 0, bytesOut: 0 };
    out[action] = {
      in: counts.in - b.in,
      out: counts.out - b.out,
      bytesIn: counts.bytesIn - b.bytesIn,
      bytesOut: counts.bytesOut - b.bytesOut,
    };
  }
  return out;
}

export async function runRequestsBench(options: BenchOptions): Promise<RequestsBenchResult> {
  const { quick, progress } = options;
  const loadAtStart = loadAverage();
  const perSender = quick ? 10 : 20;
  const identityPoints = quick ? [10, 1000] : [10, 100, 1000, 10_000];
  const connectionPoints = quick ? [10, 100] : [10, 100, 1000];

  // Scheduled functions every 10 s instead of every minute, so their runs are seen and timed.
  const instrumented = await startInstrumentedRunner({ scheduleIntervalMs: SCHEDULE_INTERVAL_MS });
  const { runner } = instrumented;
  const fleet = Fleet.start();
  const scheduled: Tally['invocations'] = [];
  let identities = 0;
  let connections = 0;
  try {
    await fleet.register(runner, ACTIVE);
    identities = ACTIVE;
    await fleet.call({
      type: 'connect',
      wsUrl: runner.wsUrl,
      serverPublicKey: runner.serverPublicKey,
      from: 0,
      to: ACTIVE,
      parallel: ACTIVE,
    });
    connections = ACTIVE;
    await fleet.call({ type: 'contacts', active: ACTIVE, perClient: ACTIVE - 1 });
    const everyone = Array.from({ length: ACTIVE }, (_, i) => i);
    const keepScheduled = (tally: Tally) =>
      scheduled.push(...tally.invocations.filter((i) => FUNCTIONS_WITH_SCHEDULE.has(i.route)));

    /** Runs `work` as one measured phase. */
    const phase = async (label: string, work: () => Promise<unknown>, drain = true): Promise<Phase> => {
      const framesBefore = await fleet.call({ type: 'frames' });
      // Scheduled runs between phases count for the idle cost, not for any phase.
      keepScheduled(instrumented.reset());
      await work();
      const ledger = drain
        ? await fleet.call({ type: 'drain', timeoutMs: 30_000 })
        : ({
            acked: 0,
            delivered: 0,
            lost: 0,
            duplicates: 0,
            redelivered: 0,
            unacknowledgedDeliveries: 0,
            sendErrors: {},
          } as Ledger);
      // Acks of pushed messages get no answer: the phase ends when the runner has handled them, and
      // the wake-ups its copies caused, too.
      if (drain) await instrumented.quiet();
      const tally = instrumented.reset();
      keepScheduled(tally);
      const frames = subtractFrames(await fleet.call({ type: 'frames' }), framesBefore);
      return { label, identities, connections, ledger, tally, frames };
    };
    const burst = (senders: readonly number[], recipients: readonly number[], count = perSender) =>
      fleet.call({ type: 'burst', senders, recipients, perSender: count });

    progress('  settling…');
    await phase('settle', () => burst(everyone, everyone, 3));

    progress('  one message at a time…');
    const sequential = await phase('sequential', () => burst([0], everyone.slice(1), perSender));

    const identityScale: Phase[] = [];
    for (const target of identityPoints) {
      if (target > identities) {
        progress(`  writing ${target - identities} more identity records…`);
        await fleet.register(runner, 0, target - identities);
        identities = target;
      }
      progress(`  ${identities} identities, ${connections} connections`);
      identityScale.push(await phase(`${identities} identities`, () => burst(everyone, everyone)));
    }
    const connectionScale: Phase[] = [];
    for (const target of connectionPoints) {
      // The first point is usually where the identity scale ended: measured there already.
      if (target <= connections && identityScale.length > 0) {
        connectionScale.push(identityScale.at(-1)!);
        continue;
      }
      if (target > connections) {
        progress(`  connecting ${target - connections} more clients…`);
        await fleet.register(runner, target - connections);
        identities += target - connections;
        const connected = await fleet.call({
          type: 'connect',
          wsUrl: runner.wsUrl,
          serverPublicKey: runner.serverPublicKey,
          from: connections,
          to: target,
          parallel: 20,
        });
        if (connected.failed > 0) throw new Error(`${connected.failed} clients could not connect`);
        connections = target;
      }
      progress(`  ${identities} identities, ${connections} connections`);
      connectionScale.push(await phase(`${connections} connections`, () => burst(everyone, everyone)));
    }

    progress('  offline recipients, backlog at login…');
    const half = ACTIVE / 2;
    const senders = everyone.slice(0, half);
    const recipients = everyone.slice(half);
    await fleet.call({ type: 'disconnect', from: half, to: ACTIVE });
    connections -= half;
    // Let their $disconnect handlers finish before counting.
    await sleep(1000);
    // The copies they cannot take carry `seq`: the mailbox stream invokes `wakeups` for them (off
    // the send path), counted with the sends once its invocations have stopped coming.
    const offlineSend = await phase(
      'offline send',
      async () => {
        await burst(senders, recipients);
        await settledStreams(instrumented);
      },
      false,
    );
    const sizes = await measureSizes(instrumented, fleet.identities[half]!);
    connections += half;
    const offlineLogin = await phase('login + backlog', () =>
      fleet.call({
        type: 'connect',
        wsUrl: runner.wsUrl,
        serverPublicKey: runner.serverPublicKey,
        from: half,
        to: ACTIVE,
        parallel: half,
      }),
    );
    keepScheduled(instrumented.reset());
    return {
      sequential,
      identityScale,
      connectionScale,
      offlineSend,
      offlineLogin,
      scheduled,
      sizes,
      perSender,
      load: [loadAtStart, loadAverage()],
    };
  } finally {
    await fleet.stop().catch(() => {});
    await instrumented.stop();
  }
}

/** The function the mailbox stream feeds: push wake-ups for copies nobody could take at once. */
const STREAM_FUNCTION = 'wakeups';

const FUNCTIONS_WITH_SCHEDULE = new Set<string>(
  Object.entries(FUNCTIONS)
    .filter(([, spec]) => 'schedule' in spec)
    .map(([name]) => name),
);

// ─── P3 report ──────────────────────────────────────────────────────────────────────────────────

const invocationsOf = (phase: Phase, route: string) =>
  phase.tally.invocations.filter((i) => i.route === route);

interface Counts {
  readonly delivered: number;
  readonly total: number;
  readonly send: number;
  readonly ack: number;
  readonly perSend: number;
  readonly perAck: number;
  readonly perAckFrame: number;
  readonly pushes: number;
}

function counts(phase: Phase, delivered = phase.ledger.delivered): Counts {
  const sends = invocationsOf(phase, 'send').length;
  const acks = invocationsOf(phase, 'ack').length;
  const sendRequests = requestCount(phase.tally, 'DynamoDB', 'send');
  const ackRequests = requestCount(phase.tally, 'DynamoDB', 'ack');
  return {
    delivered,
    total: requestCount(phase.tally, 'DynamoDB') / delivered,
    send: sendRequests / delivered,
    ack: ackRequests / delivered,
    perSend: sendRequests / sends,
    // Acks may all ride on sends (a `send` frame's `ack` field): then no ack frame went out.
    perAck: acks > 0 ? ackRequests / acks : 0,
    perAckFrame: acks > 0 ? delivered / acks : Number.POSITIVE_INFINITY,
    pushes: requestCount(phase.tally, 'ApiGatewayManagementApi', 'send') / delivered,
  };
}

function scaleRow(phase: Phase): string[] {
  const c = counts(phase);
  return [
    phase.identities.toLocaleString('en-US'),
    phase.connections.toLocaleString('en-US'),
    String(c.delivered),
    fixed(c.total, 2),
    fixed(c.perSend, 2),
    fixed(c.perAck, 2),
    Number.isFinite(c.perAckFrame) ? fixed(c.perAckFrame, 1) : 'no ack frame',
    fixed(c.pushes, 2),
  ];
}

/** Requests per route and operation (WebSocket routes only: $connect and scheduled runs are not per message). */
function breakdown(phase: Phase, delivered: number): string[][] {
  const rows: string[][] = [];
  for (const [route, operations] of [...phase.tally.requests].sort()) {
    if (route === OUTSIDE_ROUTES) continue;
    for (const [operation, count] of [...operations].sort()) {
      rows.push([route, operation, String(count), fixed(count / delivered, 2)]);
    }
  }
  return rows;
}

function ledgerProblems(result: RequestsBenchResult): string[] {
  const phases = [result.sequential, ...result.identityScale, ...result.connectionScale, result.offlineLogin];
  const lost = sum(phases.map((p) => p.ledger.lost));
  const duplicates = sum(phases.map((p) => p.ledger.duplicates));
  return [
    ...(lost > 0 ? [`P3: ${lost} messages acked by the server never reached their recipient`] : []),
    ...(duplicates > 0 ? [`P3: ${duplicates} messages reached the app more than once`] : []),
  ];
}

export function requestsReports(result: RequestsBenchResult): BenchReport[] {
  const base = result.identityScale[0]!;
  const scale = [...new Set([...result.identityScale, ...result.connectionScale])];
  const totals = scale.map((p) => counts(p).total);
  const perSend = scale.map((p) => counts(p).perSend);
  const perAck = scale.map((p) => counts(p).perAck);
  // Flat: within 5 % (transaction conflicts under contention would add retries).
  const flat = (values: number[]) => (Math.max(...values) - Math.min(...values)) / Math.min(...values) < 0.05;
  const flatSend = flat(perSend);
  const flatAck = flat(perAck);
  const baseCounts = counts(base);
  const sequentialCounts = counts(result.sequential);
  const offlineDelivered = result.offlineLogin.ledger.delivered;
  const offlineSend = requestCount(result.offlineSend.tally, 'DynamoDB') / offlineDelivered;
  const loginTally = result.offlineLogin.tally;
  const offlineBacklog =
    (requestCount(loginTally, 'DynamoDB', 'pull') + requestCount(loginTally, 'DynamoDB', 'ack')) /
    offlineDelivered;
  const sessionRequests =
    requestCount(loginTally, 'DynamoDB', 'hello') +
    requestCount(loginTally, 'DynamoDB', 'login') +
    (loginTally.requests.get(OUTSIDE_ROUTES)?.get('DynamoDB.PutItem') ?? 0);
  const logins = invocationsOf(result.offlineLogin, 'login').length;
  const best = Math.min(baseCounts.total, offlineSend + offlineBacklog);
  const met = best <= TARGET_REQUESTS;

  const scaleTable = markdownTable(
    [
      'identities',
      'connections',
      'messages',
      'DynamoDB requests / message',
      'per `send`',
      'per `ack`',
      'messages / ack',
      'pushes / message',
    ],
    [...new Set([...result.identityScale, ...result.connectionScale])].map(scaleRow),
    [true, true, true, true, true, true, true, true],
  );
  const breakdownTable = markdownTable(
    ['route', 'operation', 'requests', 'per message'],
    breakdown(base, base.ledger.delivered),
    [false, false, true, true],
  );
  const offlineRows = [
    ...breakdown(result.offlineSend, offlineDelivered).map((row) => ['while offline', ...row]),
    ...breakdown(result.offlineLogin, offlineDelivered).map((row) => ['at login', ...row]),
  ];
  const offlineTable = markdownTable(
    ['phase', 'route', 'operation', 'requests', 'per message'],
    offlineRows,
    [false, false, false, true, true],
  );

  const p3: BenchReport = {
    id: 'P3',
    name: 'requests',
    failures: ledgerProblems(result),
    summary: `DynamoDB requests per delivered message: **${fixed(baseCounts.total, 2)} online** (${fixed(baseCounts.perAckFrame, 1)} messages per ack), **${fixed(offlineSend + offlineBacklog, 2)} via the backlog** (target ≤ ${TARGET_REQUESTS}: ${met ? 'met' : 'missed'}); per invocation ${flatSend && flatAck ? 'flat' : 'not flat'} from 10 to ${Math.max(...scale.map((p) => p.identities)).toLocaleString('en-US')} identities and 10 to ${Math.max(...scale.map((p) => p.connections)).toLocaleString('en-US')} connections.`,
    section: (command) => `## P3 DynamoDB requests per message

Every AWS SDK request the runner's handlers send is counted by SDK middleware on the runner's clients
(\`onRequest\` in \`lambdas/runtime/clients.ts\`) and attributed to the WebSocket route whose invocation
sent it (\`bench/instrument.ts\`). At every point the same traffic: ${ACTIVE} active clients each send
${result.perSender} messages of 1 KiB to random ones of the other ${ACTIVE - 1}, waiting for each server
ack (${ACTIVE} messages in flight); recipients ack through the client SDK with its defaults
(\`ackBatch\` ${LIMITS.ackMaxMessages}, \`ackDelayMs\` 200). Everyone else registered or connected is idle.
Identity records beyond the clients' own are written straight into the identities table (setup);
the extra connections are real logged-in WebSocket sessions (registering them adds to the identities).
Counts cover a phase from its first send until every message is delivered, every ack sent, and the
handlers have been quiet for ${QUIET_MS / 1000} s (acks of pushed messages get no answer; the wake-ups the
mailbox stream feeds come within its batching window).

${machine(command, result.load)}

${scaleTable}

**Online delivery: ${fixed(baseCounts.total, 2)} DynamoDB requests per message at the smallest point,
${fixed(Math.min(...totals), 2)}–${fixed(Math.max(...totals), 2)} over all points — target ≤ ${TARGET_REQUESTS} ${met ? 'met' : 'missed'}${
      met ? '' : ` by ${fixed(best - TARGET_REQUESTS, 2)} at best (the backlog path below)`
    }. Per invocation the counts are ${flatSend && flatAck ? 'flat' : 'not flat'}: ${fixed(Math.min(...perSend), 2)}–${fixed(Math.max(...perSend), 2)} per \`send\`,
${fixed(Math.min(...perAck), 2)}–${fixed(Math.max(...perAck), 2)} per \`ack\` from 10 to ${Math.max(...scale.map((p) => p.identities)).toLocaleString('en-US')} identities and 10 to
${Math.max(...scale.map((p) => p.connections)).toLocaleString('en-US')} connections** (every per-message operation is keyed). What moves the
per-message total is only how many messages one ack frame carries, which depends on how fast
messages arrive at a recipient, not on the number of users: one message at a time (${result.sequential.ledger.delivered}
messages from one sender) it is ${fixed(sequentialCounts.total, 2)} requests per message with ${fixed(sequentialCounts.perAckFrame, 1)} messages per ack.

By route and operation at the smallest point (${base.ledger.delivered} messages):

${breakdownTable}

Offline recipients, backlog at login (${offlineDelivered} messages to ${ACTIVE / 2} offline recipients, then they
log in; the SDK pulls pages of up to ${LIMITS.pullPageMessages} and acks them in batches):
${fixed(offlineSend, 2)} requests per message while they are offline + ${fixed(offlineBacklog, 2)} for pull and ack =
**${fixed(offlineSend + offlineBacklog, 2)} per message**, plus ${logins > 0 ? fixed(sessionRequests / logins, 1) : 'n/a'} per login for
\`$connect\`, \`hello\` and \`login\`. While they are offline, each stored copy also reaches the
mailbox stream, and \`${STREAM_FUNCTION}\` (push wake-ups, off the send path) reads the recipient's owner record
and tries its debounce claim: the rows named \`${STREAM_FUNCTION}\` (these recipients registered no push target,
which changes no DynamoDB request: the claim is the same write either way).

${offlineTable}

Where the requests go: a \`send\` makes ${fixed(baseCounts.perSend, 2)} — the frame's acceptance (one conditional UpdateItem
of the sender's connection record: session, replay slot, rate block; no read before it), the
recipient's owner record (GetItem: active, live sessions, approximate counters) and the copy's
conditional PutItem, plus one sample in ${LIMITS.quotaSampleEvery} of the quota counter and of the sender's rate window
(UpdateItem each), and for a send that carries the sender's own acks (its \`ack\` field: the SDK
puts the acks still waiting for their batch into its next send) one BatchWriteItem of those deletes; an \`ack\` frame makes ${fixed(baseCounts.perAck, 2)} per frame (its frame update and one BatchWriteItem of the
deletes, no read, no counter). With every ack frame carrying ${LIMITS.ackMaxMessages} messages that is ${fixed(
      baseCounts.perSend + baseCounts.perAck / LIMITS.ackMaxMessages,
      2,
    )} per message; the
per-message total above is higher by the ack frames' share at the batch sizes measured. What is left
above ${TARGET_REQUESTS} is the frame update that replay protection needs on every frame (DESIGN.md invariant 10: each
sealed frame is accepted at most once, so something must remember it) and the sampled counters.
`,
  };
  return [p3, costReport(result), clientMonthReport(result)];
}

// ─── P4 cost ────────────────────────────────────────────────────────────────────────────────────

/**
 * List prices, us-east-1, from the AWS pricing pages as they stood in 2025 (DynamoDB on-demand after
 * its 1 November 2024 price cut), first tiers, no free tier. Assumptions of this report, not
 * measurements.
 */
export const PRICES = {
  date: '2025 (DynamoDB on-demand as cut on 1 November 2024)',
  region: 'us-east-1',
  /** Lambda, arm64: per GB-second and per request. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** API Gateway WebSocket: per message (32 KB units, both directions; first billion) and per connection-minute. */
  wsMessage: 1.0 / 1e6,
  wsConnectionMinute: 0.25 / 1e6,
  /** DynamoDB on-demand (standard table class): per write / read request unit; storage per GB-month. */
  dynamoWru: 0.625 / 1e6,
  dynamoRru: 0.125 / 1e6,
  dynamoStorageGbMonth: 0.25,
  /** Point-in-time recovery (continuous backups), per GB-month (on for identities only). */
  dynamoPitrGbMonth: 0.2,
  /** Data transfer out to the internet, per GB (first 10 TB; the first 100 GB a month are free). */
  transferOutGb: 0.09,
  /** CloudWatch Logs ingestion (standard class), per GB; storage per GB-month. */
  logsIngestGb: 0.5,
  logsStorageGbMonth: 0.03,
  /** S3 Standard storage per GB-month (Safe backups). */
  s3GbMonth: 0.023,
  /** Secrets Manager, per secret per month. */
  secretMonth: 0.4,
  /** CloudWatch standard-resolution alarm, per metric it reads per month (metric math: each metric). */
  alarmMetricMonth: 0.1,
  /** CloudWatch custom metric, per metric-month, prorated by the hours it is published. */
  customMetricMonth: 0.3,
  /** KMS customer-managed key, per month. */
  kmsKeyMonth: 1.0,
} as const;

/**
 * What an idle deployment pays for by the month, from both stacks as `cdk synth` builds them with
 * the default settings (no bundling): the alarms and the metrics they read (what CloudWatch bills),
 * the Secrets Manager secrets and the customer-managed KMS keys it creates.
 */
export function fixedInventory(): { alarms: number; metrics: number; secrets: number; keys: number } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const { api, stateful } = new Switchyard(app, 'Switchyard', readConfig(app));
  const templates = [Template.fromStack(stateful), Template.fromStack(api)];
  const count = (type: string) =>
    templates.reduce((total, template) => total + Object.keys(template.findResources(type)).length, 0);
  const alarms = templates.flatMap((template) =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')),
  );
  const metrics = alarms.map((alarm) => {
    const props = alarm.Properties as { MetricName?: string; Metrics?: { MetricStat?: unknown }[] };
    return props.MetricName ? 1 : (props.Metrics ?? []).filter((m) => m.MetricStat).length;
  });
  return {
    alarms: alarms.length,
    metrics: metrics.reduce((a, b) => a + b, 0),
    secrets: count('AWS::SecretsManager::Secret'),
    keys: count('AWS::KMS::Key'),
  };
}

/** The memory every function gets (lib/constructs/manifest-function.ts). */
const LAMBDA_GB = 256 / 1024;
const KB = 1024;
const WS_UNIT = 32 * 1024;

interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly dollars: number;
}

/** DynamoDB capacity units per message for one phase, from its request counts and the item sizes. */
function capacity(phases: readonly Phase[], delivered: number, sizes: ItemSizes) {
  const wru = (bytes: number) => Math.ceil(bytes / KB);
  const rru = (bytes: number) => Math.ceil(bytes / (4 * KB));
  const lsi = wru(sizes.message + INDEX_OVERHEAD);
  let reads = 0;
  let writes = 0;
  const unpriced: string[] = [];
  for (const phase of phases) {
    const acked = phase.ledger.delivered;
    for (const [route, operations] of phase.tally.requests) {
      // Requests outside a WebSocket route are $connect's (per session) or a scheduled function's.
      if (route === OUTSIDE_ROUTES) continue;
      for (const [key, count] of operations) {
        if (!key.startsWith('DynamoDB.')) continue;
        const operation = key.slice('DynamoDB.'.length);
        const id = `${route} ${operation}`;
        switch (id) {
          case 'hello GetItem':
          case 'login GetItem':
          case 'ack GetItem':
          case 'pull GetItem':
            // Strongly consistent reads of small records (connection, identity, owner record).
            reads += count * rru(Math.max(sizes.connection, sizes.identity, sizes.owner));
            break;
          case 'send GetItem':
            // The recipients' owner records, strongly consistent (a frame refused for its rate
            // block also reads its connection record: as small).
            reads += count * rru(Math.max(sizes.owner, sizes.connection));
            break;
          case 'send UpdateItem':
          case 'ack UpdateItem':
          case 'pull UpdateItem':
          case 'hello UpdateItem':
          case 'login UpdateItem':
            // The frame's acceptance on the connection record (replay slot), the sampled quota
            // counters and the owner record's sessions: a write unit per started KB of the item.
            writes += count * wru(Math.max(sizes.connection, sizes.owner));
            break;
          case 'login PutItem':
            // An owner record made on first use (none here: registration makes it).
            writes += count * wru(sizes.owner);
            break;
          case 'send PutItem':
            // The copy (its index entry below).
            writes += count * wru(sizes.message);
            break;
          case 'ack BatchWriteItem':
          case 'send BatchWriteItem':
            // Deletes of acked copies, by ack frames or riding on sends: priced below, per copy.
            break;
          case 'wakeups GetItem':
            // The recipient's owner record (is a session live?), strongly consistent.
            reads += count * rru(sizes.owner);
            break;
          case 'wakeups UpdateItem':
            // The debounce claim on the recipient's `#push` item, which also returns its targets
            // (a refused claim still costs the write): a unit, as a `#push` item with a few
            // targets is under 1 KB.
            writes += count * wru(sizes.owner);
            break;
          case 'pull Query':
            // Pages of messages on the LSI, strongly consistent: their bytes in 4 KB units (plus
            // up to one unit per page for rounding and the one-item look-ahead).
            reads += Math.ceil((sizes.message * acked) / (4 * KB)) + count;
            break;
          default:
            unpriced.push(`${id} × ${count}`);
        }
      }
    }
    // The sparse byArrival index (all attributes projected): an entry for each copy that waited
    // for a pull, written with it and removed by its ack (every copy here is acked). A copy indexed
    // after its pushes failed was updated at its full size, not the small record counted above.
    // Every delivered copy is deleted once: a unit per started KB of each.
    writes += acked * wru(sizes.message);
    const { stored, later } = phase.tally.indexed;
    writes +=
      2 * lsi * (stored + later) +
      later * (wru(sizes.message) - wru(Math.max(sizes.connection, sizes.owner)));
  }
  return { reads: reads / delivered, writes: writes / delivered, unpriced };
}

/**
 * Reported capacity by what DynamoDB bills: read units, write units, the write units spent in
 * secondary indexes, and how many requests reported.
 */
function billedUnits(entries: Iterable<readonly [string, ConsumedUnits]>) {
  const billed = { reads: 0, writes: 0, indexWrites: 0, reports: 0 };
  for (const [operation, units] of entries) {
    billed.reports += units.reports;
    if (READ_OPERATIONS.has(operation)) billed.reads += units.units;
    else {
      billed.writes += units.units;
      billed.indexWrites += units.indexUnits;
    }
  }
  return billed;
}

/**
 * What DynamoDB (Local) itself reported consuming per delivered message for the requests
 * `capacity` prices (every route but those outside the WebSocket routes: $connect's and the
 * scheduled functions'), secondary indexes included: the check on that estimate, at the sizes
 * measured (not the 200 B variant).
 */
function measuredCapacity(phases: readonly Phase[], delivered: number) {
  const { reads, writes, indexWrites } = billedUnits(
    phases.flatMap((phase) =>
      [...phase.tally.capacity]
        .filter(([route]) => route !== OUTSIDE_ROUTES)
        .flatMap(([, operations]) => [...operations]),
    ),
  );
  return { reads: reads / delivered, writes: writes / delivered, indexWrites: indexWrites / delivered };
}

/**
 * Waits until the stream function (`wakeups`) has run for what was just written and then gone
 * quiet: its request count unchanged for 2 s (the runner's stream reader polls every 250 ms), at
 * most 30 s.
 */
async function settledStreams(instrumented: InstrumentedRunner): Promise<void> {
  const count = () => requestCount(instrumented.current(), 'DynamoDB', STREAM_FUNCTION);
  const deadline = Date.now() + 30_000;
  let last = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const now = count();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    } else if (now > 0 && Date.now() - quietSince >= 2000) return;
    await sleep(250);
  }
}

function costLines(
  phases: readonly Phase[],
  delivered: number,
  durations: Phase,
  sizes: ItemSizes,
): CostLine[] {
  // $default (unknown actions, no keep-alive since echo is a MOCK route) is no part of a message;
  // scheduled functions are an idle cost, below.
  const invocations = phases.flatMap((p) => p.tally.invocations).filter((i) => i.route !== '$default');
  const routes = [...new Set(invocations.map((i) => i.route))].filter((r) => !FUNCTIONS_WITH_SCHEDULE.has(r));
  const lines: CostLine[] = [];
  // Lambda: invocations per message per route, billed at the measured median duration (1 ms steps).
  let requests = 0;
  let gbSeconds = 0;
  const parts: string[] = [];
  for (const route of routes) {
    const count = invocations.filter((i) => i.route === route).length / delivered;
    const measured = durations.tally.invocations.filter((i) => i.route === route).map((i) => i.durationMs);
    const own = invocations.filter((i) => i.route === route).map((i) => i.durationMs);
    const ms = Math.ceil(quantile(measured.length > 0 ? measured : own, 0.5));
    requests += count;
    gbSeconds += count * (ms / 1000) * LAMBDA_GB;
    parts.push(`${route} ${fixed(count, 2)} × ${ms} ms`);
  }
  lines.push({
    item: `Lambda requests (${parts.join(', ')})`,
    quantity: `${fixed(requests, 2)} invocations`,
    dollars: requests * PRICES.lambdaRequest * 1e6,
  });
  lines.push({
    item: 'Lambda duration, arm64, 256 MB',
    quantity: `${fixed(gbSeconds * 1000, 2)} GB-ms`,
    dollars: gbSeconds * PRICES.lambdaGbSecond * 1e6,
  });
  // API Gateway: every frame in either direction except keep-alives, in 32 KB units.
  let messages = 0;
  let bytesOut = 0;
  for (const phase of phases) {
    for (const [action, f] of Object.entries(phase.frames)) {
      if (action === 'echo') continue;
      messages += f.in * Math.max(1, Math.ceil(f.bytesIn / Math.max(1, f.in) / WS_UNIT));
      messages += f.out * Math.max(1, Math.ceil(f.bytesOut / Math.max(1, f.out) / WS_UNIT));
      bytesOut += f.bytesIn; // what the clients received = what left AWS
    }
  }
  lines.push({
    item: 'API Gateway WebSocket messages (both directions, incl. pushes)',
    quantity: `${fixed(messages / delivered, 2)} messages`,
    dollars: (messages / delivered) * PRICES.wsMessage * 1e6,
  });
  const { reads, writes, unpriced } = capacity(phases, delivered, sizes);
  lines.push({
    item: 'DynamoDB on-demand writes',
    quantity: `${fixed(writes, 2)} WRU`,
    dollars: writes * PRICES.dynamoWru * 1e6,
  });
  lines.push({
    item: `DynamoDB on-demand reads${unpriced.length ? ` (not priced: ${unpriced.join(', ')})` : ''}`,
    quantity: `${fixed(reads, 2)} RRU`,
    dollars: reads * PRICES.dynamoRru * 1e6,
  });
  lines.push({
    item: 'Data transfer out (frames the clients received)',
    quantity: `${fixed(bytesOut / delivered / 1024, 2)} KiB`,
    dollars: (bytesOut / delivered / 2 ** 30) * PRICES.transferOutGb * 1e6,
  });
  // Lambda's own START/END/REPORT lines (~500 B, INFO) are not written: the functions log
  // platform lines from WARN up only (lib/constructs/manifest-function.ts).
  const logBytes = invocations.length > 0 ? sum(invocations.map((i) => i.lineBytes)) / invocations.length : 0;
  lines.push({
    item: `CloudWatch Logs ingestion (the handler's line; Lambda's own lines only from WARN up)`,
    quantity: `${fixed((requests * logBytes) / 1024, 2)} KiB`,
    dollars: ((requests * logBytes) / 2 ** 30) * PRICES.logsIngestGb * 1e6,
  });
  return lines;
}

/**
 * The floor of one delivered message, from the same prices: the contract's three API Gateway
 * messages (the `send`, its `sendAck`, the push) and its share of an ack frame at the SDK's full
 * batch (LIMITS.ackMaxMessages), one PutItem and one DeleteItem of the stored copy at its size (no
 * index), and one `send` invocation at its measured median duration.
 */
function floorOf(messageBytes: number, sendMs: number): number {
  const messages = 3 + 1 / LIMITS.ackMaxMessages;
  const writes = 2 * Math.ceil(messageBytes / KB);
  return (
    (messages * PRICES.wsMessage +
      writes * PRICES.dynamoWru +
      PRICES.lambdaRequest +
      (Math.ceil(sendMs) / 1000) * LAMBDA_GB * PRICES.lambdaGbSecond) *
    1e6
  );
}

/** The online scale point at the median messages per ack frame (not the most favourable one). */
function medianAckPoint(result: RequestsBenchResult): Phase {
  const points = [...new Set([...result.identityScale, ...result.connectionScale])].sort(
    (a, b) => counts(a).perAckFrame - counts(b).perAckFrame,
  );
  return points[Math.floor((points.length - 1) / 2)]!;
}

function costReport(result: RequestsBenchResult): BenchReport {
  const base = medianAckPoint(result);
  const online = costLines([base], base.ledger.delivered, result.sequential, result.sizes);
  const small = { ...result.sizes, message: result.sizes.message - 1024 + SMALL_BODY };
  const onlineSmall = sum(
    costLines([base], base.ledger.delivered, result.sequential, small).map((l) => l.dollars),
  );
  const sendMs = quantile(
    result.sequential.tally.invocations.filter((i) => i.route === 'send').map((i) => i.durationMs),
    0.5,
  );
  const floor = floorOf(result.sizes.message, sendMs);
  const floorSmall = floorOf(small.message, sendMs);
  const offlinePhases = [result.offlineSend, withoutSessionSetup(result.offlineLogin)];
  const offline = costLines(
    offlinePhases,
    result.offlineLogin.ledger.delivered,
    result.sequential,
    result.sizes,
  );
  const measuredOnline = measuredCapacity([base], base.ledger.delivered);
  const measuredOffline = measuredCapacity(offlinePhases, result.offlineLogin.ledger.delivered);
  const onlineTotal = sum(online.map((l) => l.dollars));
  const offlineTotal = sum(offline.map((l) => l.dollars));
  const table = markdownTable(
    ['per million 1 KiB messages', 'online (push)', '$ online', 'offline (backlog)', '$ offline'],
    online
      .map((line, i) => [
        line.item,
        line.quantity,
        fixed(line.dollars, 2),
        offline[i]!.quantity,
        fixed(offline[i]!.dollars, 2),
      ])
      .concat([['**total**', '', `**${fixed(onlineTotal, 2)}**`, '', `**${fixed(offlineTotal, 2)}**`]]),
    [false, true, true, true, true],
  );
  const dynamoShare = (online[3]!.dollars + online[4]!.dollars) / onlineTotal;
  const wsShare = online[2]!.dollars / onlineTotal;
  const durations = (route: string) =>
    quantile(
      result.sequential.tally.invocations.filter((i) => i.route === route).map((i) => i.durationMs),
      0.5,
    );
  // Idle: scheduled functions still run.
  const schedules = Object.entries(FUNCTIONS).flatMap(([name, spec]) =>
    'schedule' in spec && typeof spec.schedule === 'string' ? [{ name, schedule: spec.schedule }] : [],
  );
  // Requests outside the WebSocket routes during the online phases are the scheduled functions' runs.
  const onlinePhases = [result.sequential, ...new Set([...result.identityScale, ...result.connectionScale])];
  const outside = (phase: Phase) => [
    ...(phase.tally.requests.get(OUTSIDE_ROUTES) ?? new Map<string, number>()),
  ];
  const outsideQueries = sum(
    onlinePhases.flatMap((p) =>
      outside(p)
        .filter(([k]) => k === 'DynamoDB.Query')
        .map(([, n]) => n),
    ),
  );
  const outsideOther = sum(
    onlinePhases.flatMap((p) =>
      outside(p)
        .filter(([k]) => k !== 'DynamoDB.Query')
        .map(([, n]) => n),
    ),
  );
  const runsInPhases = sum(
    onlinePhases.map((p) => p.tally.invocations.filter((i) => FUNCTIONS_WITH_SCHEDULE.has(i.route)).length),
  );
  let scheduledMonth = 0;
  const idleLines = schedules.map(({ name, schedule }) => {
    const minutes = Number(/rate\((\d+) minutes?\)/.exec(schedule)?.[1] ?? Number.NaN);
    const perMonth = (30 * 24 * 60) / minutes;
    const runs = result.scheduled.filter((i) => i.route === name).map((i) => i.durationMs);
    const ms = runs.length > 0 ? Math.ceil(quantile(runs, 0.5)) : undefined;
    // With one scheduled function, its queries per run (eventually consistent, small: half a unit).
    const queriesPerRun =
      schedules.length === 1 && runsInPhases > 0 ? outsideQueries / runsInPhases : undefined;
    const dollars =
      perMonth * PRICES.lambdaRequest +
      (ms !== undefined ? perMonth * (ms / 1000) * LAMBDA_GB * PRICES.lambdaGbSecond : 0) +
      (queriesPerRun !== undefined ? perMonth * queriesPerRun * 0.5 * PRICES.dynamoRru : 0);
    scheduledMonth += dollars;
    return `\`${name}\` runs on \`${schedule}\`: ${perMonth.toLocaleString('en-US')} invocations a month${
      ms !== undefined
        ? ` at a measured median of ${ms} ms (${runs.length} run${runs.length === 1 ? '' : 's'} seen; the runner scheduled it every ${SCHEDULE_INTERVAL_MS / 1000} s here)`
        : ' (no run fell into this benchmark, so its duration is not priced)'
    }${
      queriesPerRun !== undefined
        ? `, ${fixed(queriesPerRun, 1)} DynamoDB queries per run with nothing pending${outsideOther > 0 ? ` (and ${outsideOther} other requests in all)` : ''}`
        : ''
    }: ≈ $${fixed(dollars, 3)} a month`;
  });
  const monitoring = fixedInventory();
  const monitoringMonth = monitoring.metrics * PRICES.alarmMetricMonth;
  const secretsMonth = monitoring.secrets * PRICES.secretMonth;
  const keysMonth = monitoring.keys * PRICES.kmsKeyMonth;
  const idleMonth = secretsMonth + keysMonth + monitoringMonth + scheduledMonth;
  const ratio = onlineTotal / floor;
  const ratioSmall = onlineSmall / floorSmall;
  const met = ratio <= TARGET_FLOOR_RATIO && ratioSmall <= TARGET_FLOOR_RATIO;
  const perAck = counts(base).perAckFrame;
  return {
    id: 'P4',
    name: 'cost',
    summary: `AWS cost per million messages online: **×${fixed(ratio, 2)} the floor at 1 KiB** ($${fixed(onlineTotal, 2)} vs $${fixed(floor, 2)}), **×${fixed(ratioSmall, 2)} at ${SMALL_BODY} B** ($${fixed(onlineSmall, 2)} vs $${fixed(floorSmall, 2)}), at the median ${fixed(perAck, 1)} messages per ack; $${fixed(offlineTotal, 2)} via the backlog at 1 KiB (target ≤ ×${TARGET_FLOOR_RATIO}: ${met ? 'met' : 'missed'}; ${fixed(100 * dynamoShare, 0)} % DynamoDB, ${fixed(100 * wsShare, 0)} % API Gateway); idle: no compute${schedules.length > 0 ? ` except ${schedules.map((s) => `\`${s.name}\` on \`${s.schedule}\``).join(', ')}` : ''}.`,
    section: (command) => `## P4 AWS cost per million messages

Computed, not billed: P3's measured counts per message (for online delivery the scale point at the
median messages per ack frame, ${fixed(perAck, 1)}, not the most favourable; the
offline scenario for backlog delivery, without the per-session \`$connect\`/\`hello\`/\`login\` and with the
push wake-ups its copies caused: \`${STREAM_FUNCTION}\` invocations and requests; a provider request is free, P12), the
frames the clients sent and received (count and bytes), the handlers' median durations with one
message in flight (P3's sequential phase: \`send\` ${fixed(durations('send'))} ms, \`ack\` ${fixed(durations('ack'))} ms on this machine, against
DynamoDB Local), the sizes of the items as stored (by DynamoDB's item size rules: message with a
1 KiB body ${result.sizes.message} B, owner record ${result.sizes.owner} B, rate window ${result.sizes.rateWindow} B, connection record
${result.sizes.connection} B, identity ${result.sizes.identity} B), and these list prices — assumptions, not read from AWS by this benchmark: ${PRICES.region}, the
pricing pages as they stood in ${PRICES.date}, first tiers, no free tier; check them before
relying on the totals:

- Lambda arm64 $${PRICES.lambdaGbSecond} per GB-s and $${fixed(PRICES.lambdaRequest * 1e6, 2)} per million requests; 256 MB per function.
- API Gateway WebSocket $${fixed(PRICES.wsMessage * 1e6, 2)} per million messages (32 KB units, sent and received, pushes
  included) and $${fixed(PRICES.wsConnectionMinute * 1e6, 2)} per million connection-minutes.
- DynamoDB on-demand $${fixed(PRICES.dynamoWru * 1e6, 3)} per million write request units and $${fixed(PRICES.dynamoRru * 1e6, 3)} per million read
  request units: a write is 1 unit per started KB, a strongly consistent read 1
  per started 4 KB (half for eventually consistent), BatchGetItem rounds each item on its own; the
  mailbox's local index (all attributes projected, sparse: only copies that wait for a pull) is
  written with such a copy and its delete, at the standard rate.
- Data transfer out $${PRICES.transferOutGb} per GB; CloudWatch Logs ingestion $${PRICES.logsIngestGb} per GB.

${machine(command, result.load)}

${table}

**The floor** of a delivered message, from the same prices: the three API Gateway messages the
contract needs (the \`send\`, its \`sendAck\`, the push) plus its share of one ack frame at the SDK's
full batch (1/${LIMITS.ackMaxMessages}), one PutItem and one DeleteItem of the stored copy at its size (${Math.ceil(result.sizes.message / KB)} WRU
each at 1 KiB, ${Math.ceil(small.message / KB)} at ${SMALL_BODY} B; no index), and one \`send\` invocation at its median
${fixed(sendMs)} ms: **$${fixed(floor, 2)} per million at 1 KiB, $${fixed(floorSmall, 2)} at ${SMALL_BODY} B.**

**Online: $${fixed(onlineTotal, 2)} per million 1 KiB messages, ×${fixed(ratio, 2)} the floor; $${fixed(onlineSmall, 2)} at ${SMALL_BODY} B,
×${fixed(ratioSmall, 2)} — target ≤ ×${TARGET_FLOOR_RATIO} ${met ? 'met' : 'missed'}.** (${SMALL_BODY} B: the same measured counts, frames
and durations, with the stored items' sizes for a ${SMALL_BODY}-byte body.) Above the floor: the frame
update of each \`send\` and \`ack\` on the connection record (replay protection and the rate block,
one write unit each), the owner-record read of each recipient (one read unit), the sampled quota
counter and rate window (one write in ${LIMITS.quotaSampleEvery} sends each), the
\`ack\` invocations and the answers the SDK asks for, and the log lines. DynamoDB is ${fixed(100 * dynamoShare, 0)} % of the online total,
API Gateway ${fixed(100 * wsShare, 0)} %. Lambda durations here are local (handlers waiting on DynamoDB Local on a shared
machine). The DynamoDB lines are estimated from the requests and the item sizes; DynamoDB Local's
own count of the same requests (\`ReturnConsumedCapacity: INDEXES\`) came to ${fixed(measuredOnline.writes, 2)} WRU
(${fixed(measuredOnline.indexWrites, 2)} of them in the mailbox's index) and ${fixed(measuredOnline.reads, 2)} RRU per message online, ${fixed(measuredOffline.writes, 2)} WRU
(${fixed(measuredOffline.indexWrites, 2)}) and ${fixed(measuredOffline.reads, 2)} RRU via the backlog. A write refused by its condition
(a \`wakeups\` debounce claim within the interval) reports no capacity, though DynamoDB bills it: the
estimate counts those, the reported units do not.

**Idle: no compute is provisioned — Lambda, API Gateway and on-demand DynamoDB cost nothing without
requests — ${schedules.length > 0 ? 'except scheduled functions' : 'and nothing runs on a schedule'}.** ${idleLines.join('; ')}${idleLines.length ? '.' : ''}
What idle storage costs: DynamoDB $${PRICES.dynamoStorageGbMonth} per GB-month (an identity record is ${result.sizes.identity} B + 100 B
overhead, so a million identities ≈ ${fixed(((result.sizes.identity + 100) * 1e6) / 1e9, 2)} GB ≈ $${fixed((((result.sizes.identity + 100) * 1e6) / 1e9) * PRICES.dynamoStorageGbMonth, 3)} a month, plus point-in-time recovery
on identities at $${PRICES.dynamoPitrGbMonth} per GB-month; undelivered messages for up to their TTL), S3 $${PRICES.s3GbMonth}
per GB-month for Safe backups, CloudWatch log storage $${PRICES.logsStorageGbMonth} per GB-month.
Counted in the synthesized stacks with the default settings: ${monitoring.secrets} Secrets Manager secrets (the server key, the
vault's OPRF setup, the VAPID key) at $${PRICES.secretMonth} a month each, $${fixed(secretsMonth, 2)} (another $${PRICES.secretMonth} for each of a Safe
Basic auth, FCM or APNs secret); ${monitoring.keys} customer-managed KMS keys (the alarm topic's, the vault's) at
$${PRICES.kmsKeyMonth} each, $${fixed(keysMonth, 2)} (one more with \`customerManagedKey\`). Monitoring is the largest fixed cost:
${monitoring.alarms} alarms reading ${monitoring.metrics} metrics at $${PRICES.alarmMetricMonth} per alarm metric-month, $${fixed(monitoringMonth, 2)} a
month. The functions' one custom metric (\`Faults\`, $${PRICES.customMetricMonth} per metric-month, prorated by the hour) is
published only in hours with internal errors, so a healthy deployment pays nothing for it. **Fixed
cost of an idle deployment: ≈ $${fixed(idleMonth, 2)} a month** (secrets, keys, alarms, scheduled functions; storage extra).
A connected but silent client is not free: its connection-minutes, keep-alives and reconnects come to
≈ $${fixed(clientMonth(result).total, 3)} per client-month (P7).
`,
  };
}

// ─── P7 cost of an always-connected client ──────────────────────────────────────────────────────

export const TARGET_CLIENT_MONTH = 0.025;
const MINUTES_PER_MONTH = 30 * 24 * 60;
/** DynamoDB operations billed in read units; every other data operation is billed in write units. */
const READ_OPERATIONS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
/** The routes and frames of one session's setup, as measured in the backlog phase. */
const SESSION_ROUTES = ['$connect', 'hello', 'login'];
const SESSION_FRAMES = ['hello', 'login', 'loginAck'];

/**
 * One client connected all month, from PRICES: connection-minutes; a keep-alive every
 * KEEP_ALIVE_MS, which is a MOCK route (two API Gateway messages, no Lambda); and a new session
 * every LIMITS.wsMaxLifetimeMs (API Gateway's connection lifetime) at what P3's backlog phase
 * measured per login ($connect, hello, login: invocations, their median durations, frames, DynamoDB
 * requests), plus the SDK's empty \`pull\` at login and a \`$disconnect\` (one invocation each, at
 * the setup's median duration; 2 messages and 2 requests for the pull, 1 request for the
 * disconnect), DynamoDB priced at the capacity units it reported for the measured requests (indexes
 * included) and at a unit per estimated request. The floor: connection-minutes and one two-message
 * keep-alive per idle timeout, which nothing on API Gateway goes below.
 */
export function clientMonth(result: RequestsBenchResult) {
  const phase = result.offlineLogin;
  const logins = invocationsOf(phase, 'login').length;
  if (logins === 0) throw new Error('P7: the backlog phase had no login to measure');
  const setup = phase.tally.invocations.filter((i) => SESSION_ROUTES.includes(i.route));
  const setupMs = setup.map((i) => i.durationMs);
  const medianMs = Math.max(1, Math.ceil(quantile(setupMs, 0.5)));
  // Billed in 1 ms steps: each measured invocation at its own duration, the two estimated at the median.
  const invocations = setup.length / logins + 2;
  const gbSeconds = ((sum(setupMs.map((ms) => Math.ceil(ms))) / logins + 2 * medianMs) / 1000) * LAMBDA_GB;
  const frames = sum(
    Object.entries(phase.frames)
      .filter(([action]) => SESSION_FRAMES.includes(action))
      .map(([, f]) => f.in + f.out),
  );
  const messages = frames / logins + 2;
  // $connect's requests are the connection record's PutItem outside any route (P3).
  const operations = [
    ...['hello', 'login'].flatMap((route) => [...(phase.tally.requests.get(route) ?? [])]),
    ['DynamoDB.PutItem', phase.tally.requests.get(OUTSIDE_ROUTES)?.get('DynamoDB.PutItem') ?? 0] as const,
  ].filter(([key]) => key.startsWith('DynamoDB.'));
  // What DynamoDB (Local) reported those requests consumed, secondary indexes included: the
  // connection's entry in the login-deadline index, written at $connect and removed at login.
  const consumed = [
    ...['hello', 'login'].flatMap((route) => [...(phase.tally.capacity.get(route) ?? [])]),
    [
      'PutItem',
      phase.tally.capacity.get(OUTSIDE_ROUTES)?.get('PutItem') ?? { units: 0, indexUnits: 0, reports: 0 },
    ] as const,
  ];
  const billed = billedUnits(consumed);
  const sent = sum(operations.map(([, count]) => count));
  // A request that reported no capacity was refused (a write whose condition failed, billed all the
  // same) or was an attempt the SDK retried: each is priced as a write unit.
  const unreported = Math.max(0, (sent - billed.reports) / logins);
  // Not measured per login, estimated: the empty pull's session GetItem and mailbox Query (a read
  // unit each), and $disconnect's DeleteItem of the connection record (a write unit per started KB;
  // the record is in no index by then).
  const reads = 2 + billed.reads / logins;
  const writes = Math.ceil(result.sizes.connection / KB) + billed.writes / logins + unreported;
  const indexWrites = billed.indexWrites / logins;
  const requests = sent / logins + 3;
  const perSession =
    invocations * PRICES.lambdaRequest +
    gbSeconds * PRICES.lambdaGbSecond +
    messages * PRICES.wsMessage +
    reads * PRICES.dynamoRru +
    writes * PRICES.dynamoWru;
  const sessions = MINUTES_PER_MONTH / (LIMITS.wsMaxLifetimeMs / 60_000);
  const echoes = (MINUTES_PER_MONTH * 60_000) / KEEP_ALIVE_MS;
  const connection = MINUTES_PER_MONTH * PRICES.wsConnectionMinute;
  const keepAlive = echoes * 2 * PRICES.wsMessage;
  const floor = connection + ((MINUTES_PER_MONTH * 60_000) / LIMITS.wsIdleTimeoutMs) * 2 * PRICES.wsMessage;
  // What it was with a Lambda behind a 60 s echo (measured at 1 ms, the handler's usual duration).
  const lambdaEcho =
    connection +
    MINUTES_PER_MONTH *
      (2 * PRICES.wsMessage + PRICES.lambdaRequest + 0.001 * LAMBDA_GB * PRICES.lambdaGbSecond);
  return {
    connection,
    keepAlive,
    echoes,
    sessions,
    perSession,
    invocations,
    medianMs,
    messages,
    requests,
    reads,
    writes,
    indexWrites,
    unreported,
    reconnects: sessions * perSession,
    /** The sessions' Lambda duration: local durations against DynamoDB Local, on a shared machine. */
    sessionDuration: sessions * gbSeconds * PRICES.lambdaGbSecond,
    total: connection + keepAlive + sessions * perSession,
    floor,
    lambdaEcho,
  };
}

function clientMonthReport(result: RequestsBenchResult): BenchReport {
  const c = clientMonth(result);
  const met = c.total <= TARGET_CLIENT_MONTH;
  const row = (item: string, quantity: string, dollars: number) => [item, quantity, fixed(dollars, 4)];
  const table = markdownTable(
    ['per always-connected client, 30-day month', 'quantity', '$'],
    [
      row('API Gateway connection-minutes', MINUTES_PER_MONTH.toLocaleString('en-US'), c.connection),
      row(
        `keep-alive \`echo\` every ${KEEP_ALIVE_MS / 60_000} minutes (MOCK route: 2 messages, no Lambda)`,
        `${c.echoes.toLocaleString('en-US')} echoes`,
        c.keepAlive,
      ),
      row(
        `a new session every ${LIMITS.wsMaxLifetimeMs / 3_600_000} h: ${fixed(c.invocations, 1)} invocations, ${fixed(c.messages, 1)} messages, ${fixed(c.requests, 1)} DynamoDB requests (${fixed(c.reads, 1)} RRU, ${fixed(c.writes, 1)} WRU, ${fixed(c.indexWrites, 1)} of them in an index) each`,
        `${c.sessions} sessions`,
        c.reconnects,
      ),
      ['**total**', '', `**${fixed(c.total, 4)}**`],
    ],
    [false, true, true],
  );
  return {
    id: 'P7',
    name: 'client-month',
    summary: `AWS cost per always-connected client per month: **$${fixed(c.total, 4)}** (floor $${fixed(c.floor, 4)}, ×${fixed(c.total / c.floor, 2)}; target ≤ $${TARGET_CLIENT_MONTH}: ${met ? 'met' : 'missed'}; with a Lambda behind a 60 s echo it was $${fixed(c.lambdaEcho, 3)}).`,
    section: (command) => `## P7 AWS cost per always-connected client

Computed, not billed, from P4's price table (${PRICES.region}, ${PRICES.date}): one client that stays
connected for a 30-day month and sends nothing but its keep-alive. API Gateway bills the connection
by the minute and each keep-alive as two messages (the \`echo\` in, its constant answer out); since
the \`echo\` route is a MOCK integration, no Lambda runs. API Gateway closes every connection after
${LIMITS.wsMaxLifetimeMs / 3_600_000} hours, so the client opens ${c.sessions} sessions a month; each is priced at what P3's backlog
phase measured per login (\`$connect\`, \`hello\`, \`login\`: invocations at their measured durations, median
${c.medianMs} ms, handshake frames, DynamoDB requests) plus the SDK's empty \`pull\` at login and the
\`$disconnect\` (estimated: one invocation each at that median; two messages and two reads, the session and an
empty mailbox query, for the pull; one delete for the disconnect). DynamoDB is priced at the capacity
units DynamoDB Local reported consuming for the measured requests (\`ReturnConsumedCapacity: INDEXES\`,
as DynamoDB bills on-demand units: reads by the started 4 KB, writes by the started KB, transactions
twice), secondary indexes included: the connection's entry in the login-deadline index, written at
\`$connect\` and removed at login; the estimated reads and delete at a unit each (the connection
record is ${result.sizes.connection} B). A request that reports no capacity (a write refused by its
condition, which DynamoDB bills all the same, or an attempt the SDK retried) is priced at a write
unit: ${fixed(c.unreported, 2)} per session here. Lambda durations are local, against DynamoDB Local.

${machine(command, result.load)}

${table}

**$${fixed(c.total, 4)} per client-month — target ≤ $${TARGET_CLIENT_MONTH} ${met ? 'met' : `missed by $${fixed(c.total - TARGET_CLIENT_MONTH, 4)}`}.** The floor, what API Gateway
charges for any connection held open all month (connection-minutes plus one two-message keep-alive
per ${LIMITS.wsIdleTimeoutMs / 60_000}-minute idle timeout), is $${fixed(c.floor, 4)}; this is ×${fixed(c.total / c.floor, 2)} of it. $${fixed(c.sessionDuration, 4)} of the total is
the sessions' Lambda duration as measured here, on DynamoDB Local and a shared machine (load above);
handlers that wait a few milliseconds on DynamoDB in the same Region would take most of that off. The keep-alive goes one
minute inside the idle timeout (\`KEEP_ALIVE_MS\`), so a late timer still lands in time. Before, a
\`$default\` Lambda answered an \`echo\` every 60 s: $${fixed(c.lambdaEcho, 3)} a month (with a 1 ms invocation), ${fixed(
      (100 * (c.lambdaEcho - c.connection)) / c.lambdaEcho,
      0,
    )} % of it the keep-alive.
`,
  };
}

/** The login phase without the per-session requests and invocations ($connect, hello, login). */
function withoutSessionSetup(phase: Phase): Phase {
  const keep = (route: string) =>
    route !== 'hello' && route !== 'login' && route !== OUTSIDE_ROUTES && route !== '$connect';
  return {
    ...phase,
    tally: {
      requests: new Map([...phase.tally.requests].filter(([route]) => keep(route))),
      latencies: phase.tally.latencies,
      invocations: phase.tally.invocations.filter((i) => keep(i.route)),
      indexed: phase.tally.indexed,
      capacity: new Map([...phase.tally.capacity].filter(([route]) => keep(route))),
    },
    frames: Object.fromEntries(
      Object.entries(phase.frames).filter(([action]) => !['hello', 'login', 'loginAck'].includes(action)),
    ),
  };
}
