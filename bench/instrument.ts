/**
 * A local runner with its handlers' work made countable, for the chat benchmarks:
 *
 * - every AWS SDK request the handlers send (RunnerOptions.onRequest → SDK middleware), attributed
 *   to the WebSocket route whose invocation sent it, or to the stream function (`wakeups`) that the
 *   runner's stream reader invoked;
 * - every invocation's route, outcome, duration and reply size, from the handlers' own log lines.
 *
 * Route attribution: the runner's WebSocket gateway invokes a handler synchronously from the
 * server socket's `message` (or `close`) event, so running that event inside an AsyncLocalStorage
 * scope named after the frame's `action` tags everything the invocation does, down to the SDK
 * middleware. The route is read the way API Gateway selects it: the frame's leading `action`.
 * This patches `ws` in this process only, and only for server-side sockets; nothing in lambdas/ or
 * local/ knows about it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { MAILBOX } from '../contract/schema.ts';
import { WAKE_STREAM } from '../contract/streams.ts';
import { localNames } from '../local/backing.ts';
import { type Runner, type RunnerOptions, startRunner } from '../local/runner.ts';
import { dynamoLocalPid, onInterrupt, sleep } from './support.ts';

const route = new AsyncLocalStorage<string>();
export const TMPFS = '/dev/shm';
const ACTION = /^\{"action":"([A-Za-z]{1,32})"/;
const PATCHED = Symbol.for('switchyard.bench.routeTagging');

function tagServerSocketEvents(): void {
  const proto = WebSocket.prototype as unknown as Record<symbol, boolean> & {
    emit(this: WebSocket, event: string | symbol, ...args: unknown[]): boolean;
  };
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const emit = proto.emit;
  proto.emit = function (this: WebSocket, event, ...args) {
    if (!(this as unknown as { _isServer?: boolean })._isServer) return emit.call(this, event, ...args);
    if (event === 'message') {
      const match = ACTION.exec(String(args[0]).slice(0, 48));
      return route.run(match?.[1] ?? '$default', () => emit.call(this, event, ...args));
    }
    if (event === 'close') return route.run('$disconnect', () => emit.call(this, event, ...args));
    return emit.call(this, event, ...args);
  };
}

/** One handler invocation, from its log line. */
export interface Invocation {
  readonly route: string;
  readonly outcome: string;
  readonly code?: string;
  readonly durationMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Length of the log line itself (what CloudWatch would ingest for it). */
  readonly lineBytes: number;
}

/** What the handlers did during a measured phase. */
export interface Tally {
  /** route → `Service.Operation` → requests. Requests outside any WebSocket route are under `other`. */
  readonly requests: Map<string, Map<string, number>>;
  /** `Service.Operation` → how long each attempt took (ms), as the handler's SDK client saw it. */
  readonly latencies: Map<string, number[]>;
  readonly invocations: Invocation[];
  /**
   * Mailbox copies written into the sparse `byArrival` index: `stored` by the copy's PutItem (the
   * recipient had no live session), `later` by an UpdateItem after every push failed.
   */
  readonly indexed: { stored: number; later: number };
  /**
   * route → DynamoDB operation → the capacity units DynamoDB (Local) reported consuming: in all,
   * and of those in the tables' secondary indexes.
   */
  readonly capacity: Map<string, Map<string, ConsumedUnits>>;
}

/** Capacity units as DynamoDB reports them (`ConsumedCapacity`), summed, and the requests that reported them. */
export interface ConsumedUnits {
  units: number;
  indexUnits: number;
  reports: number;
}

/** The units in one `ConsumedCapacity` (a single table's, or a list for batches and transactions). */
export function consumedUnits(capacity: unknown): Omit<ConsumedUnits, 'reports'> {
  type Entry = {
    CapacityUnits?: number;
    GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
    LocalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  };
  const entries = (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []) as Entry[];
  let units = 0;
  let indexUnits = 0;
  for (const entry of entries) {
    units += entry.CapacityUnits ?? 0;
    for (const index of [
      ...Object.values(entry.GlobalSecondaryIndexes ?? {}),
      ...Object.values(entry.LocalSecondaryIndexes ?? {}),
    ])
      indexUnits += index.CapacityUnits ?? 0;
  }
  return { units, indexUnits };
}

export interface InstrumentedRunner {
  readonly runner: Runner;
  /** The runner's data folder (on tmpfs when the machine has /dev/shm). */
  readonly dataDir: string;
  /** DynamoDB Local's pid, for CPU accounting. */
  readonly javaPid: number | undefined;
  /** Starts a new tally (the previous one is returned and no longer updated). */
  reset(): Tally;
  /** The tally since the last reset. */
  current(): Tally;
  /**
   * Waits until the handlers have been quiet for `quietMs`: no invocation ended, no AWS request
   * sent. Frames nobody waits an answer for (acks of pushed messages) are handled by then, and so
   * are the wake-ups the mailbox stream feeds (the default outlasts the stream's batching window).
   */
  quiet(quietMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function emptyTally(): Tally {
  return {
    requests: new Map(),
    latencies: new Map(),
    invocations: [],
    indexed: { stored: 0, later: 0 },
    capacity: new Map(),
  };
}

/** A runner for one benchmark on a fresh data folder, and how to stop it. */
export interface BenchRunner {
  readonly runner: Runner;
  readonly dataDir: string;
  /** Stops the runner (DynamoDB Local's java too) and removes its data folder. */
  stop(): Promise<void>;
}

/**
 * Starts a runner on a fresh data folder named `switchyard-bench-{name}-…` (on tmpfs when `tmpfs`
 * and the machine has /dev/shm), listening on a free port. An interrupted run stops it as well
 * (`cleanUpWhenInterrupted`), so no DynamoDB Local or data folder outlives the bench.
 */
export async function startBenchRunner(
  name: string,
  options: Omit<RunnerOptions, 'dataDir' | 'port'> & { readonly tmpfs?: boolean },
): Promise<BenchRunner> {
  const { tmpfs, ...runnerOptions } = options;
  const parent = tmpfs && existsSync(TMPFS) ? TMPFS : tmpdir();
  const dataDir = mkdtempSync(join(parent, `switchyard-bench-${name}-`));
  let runner: Runner | undefined;
  const stop = async () => {
    unregister();
    await runner?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const unregister = onInterrupt(stop);
  try {
    // DynamoDB Local at its long-run best (HotSpot's optimizing compiler), as every bench has measured it.
    runner = await startRunner({ dataDir, port: 0, dynamoJit: 'optimizing', ...runnerOptions });
  } catch (error) {
    await stop();
    throw error;
  }
  return { runner, dataDir, stop };
}

export async function startInstrumentedRunner(
  options: Partial<Pick<RunnerOptions, 'ws' | 'scheduleIntervalMs'>> = {},
): Promise<InstrumentedRunner> {
  tagServerSocketEvents();
  let tally = emptyTally();
  /** Handler activity so far (invocations ended, requests sent), for `quiet`. */
  let activity = 0;
  const { runner, dataDir, stop } = await startBenchRunner('chat', {
    // On tmpfs where there is one: DynamoDB Local's SQLite files then cost no disk flushes, which on
    // a shared machine's disk would dominate and swing every write-heavy figure.
    tmpfs: true,
    sweepIntervalMs: 0,
    codeSink: () => {},
    ...options,
    logSink: (line) => {
      const fields = JSON.parse(line) as Partial<Invocation>;
      activity++;
      tally.invocations.push({
        route: String(fields.route),
        outcome: String(fields.outcome),
        ...(fields.code ? { code: String(fields.code) } : {}),
        durationMs: Number(fields.durationMs ?? 0),
        bytesIn: Number(fields.bytesIn ?? 0),
        bytesOut: Number(fields.bytesOut ?? 0),
        lineBytes: Buffer.byteLength(line) + 1,
      });
    },
    // A stream function's requests count under its name, like a WebSocket route's.
    wrapStreamHandler: (name, handler) => (event) => route.run(name, () => handler(event)),
    onConsumedCapacity: (operation, capacity) => {
      const name = route.getStore() ?? OUTSIDE_ROUTES;
      const byOperation = tally.capacity.get(name) ?? new Map<string, ConsumedUnits>();
      tally.capacity.set(name, byOperation);
      const sums = byOperation.get(operation) ?? { units: 0, indexUnits: 0, reports: 0 };
      byOperation.set(operation, sums);
      const consumed = consumedUnits(capacity);
      sums.units += consumed.units;
      sums.indexUnits += consumed.indexUnits;
      sums.reports++;
    },
    onRequest: (service, operation, input) => {
      const name = route.getStore() ?? OUTSIDE_ROUTES;
      activity++;
      if (service === 'DynamoDB') countIndexed(tally, operation, input);
      const byOperation = tally.requests.get(name) ?? new Map<string, number>();
      tally.requests.set(name, byOperation);
      const key = `${service}.${operation}`;
      byOperation.set(key, (byOperation.get(key) ?? 0) + 1);
      const started = performance.now();
      const latencies = tally.latencies;
      return () => {
        const list = latencies.get(key) ?? [];
        latencies.set(key, list);
        list.push(performance.now() - started);
      };
    },
  });
  return {
    runner,
    dataDir,
    javaPid: dynamoLocalPid(dataDir),
    reset() {
      const previous = tally;
      tally = emptyTally();
      return previous;
    },
    current: () => tally,
    async quiet(quietMs = QUIET_MS) {
      const deadline = performance.now() + QUIET_TIMEOUT_MS;
      let seen = activity;
      let since = performance.now();
      while (performance.now() - since < quietMs) {
        if (performance.now() > deadline) throw new Error('the runner did not become quiet');
        await sleep(50);
        if (activity !== seen) {
          seen = activity;
          since = performance.now();
        }
      }
    },
    stop,
  };
}

/**
 * How long the handlers must have been quiet for `quiet`: longer than the mailbox stream's batching
 * window, so the wake-ups a phase's copies caused are in it.
 */
export const QUIET_MS = WAKE_STREAM.maxBatchingWindowSeconds * 1000 + 500;
/** Longest wait for `quiet`: the drained traffic's last frames take well under this. */
const QUIET_TIMEOUT_MS = 60_000;

/** The bench runner's mailbox table (no name prefix). */
const MAILBOX_TABLE = localNames().tables.mailbox;

/** Counts a mailbox write that puts a copy into the arrival index (the only writes of `seq`). */
function countIndexed(tally: Tally, operation: string, input: unknown): void {
  const request = (input ?? {}) as {
    TableName?: string;
    Item?: Record<string, unknown>;
    ExpressionAttributeNames?: Record<string, string>;
  };
  if (request.TableName !== MAILBOX_TABLE) return;
  const seq = MAILBOX.attributes.seq;
  if (operation === 'PutItem' && request.Item && seq in request.Item) tally.indexed.stored++;
  if (operation === 'UpdateItem' && Object.values(request.ExpressionAttributeNames ?? {}).includes(seq))
    tally.indexed.later++;
}

/** Requests made outside any WebSocket route: `$connect` (from the HTTP upgrade) and scheduled functions. */
export const OUTSIDE_ROUTES = 'other';

/**
 * Requests of one service in a tally: of one route, or (without `routeName`) of every WebSocket
 * route — not those made outside them (OUTSIDE_ROUTES).
 */
export function requestCount(tally: Tally, service: string, routeName?: string): number {
  let total = 0;
  for (const [name, byOperation] of tally.requests) {
    if (routeName !== undefined ? name !== routeName : name === OUTSIDE_ROUTES) continue;
    for (const [key, count] of byOperation) if (key.startsWith(`${service}.`)) total += count;
  }
  return total;
}

/** `Service.Operation` → requests, over every WebSocket route. */
export function byOperation(tally: Tally, service: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, operations] of tally.requests)
    for (const [key, count] of name === OUTSIDE_ROUTES ? [] : operations)
      if (key.startsWith(`${service}.`)) {
        const operation = key.slice(service.length + 1);
        out.set(operation, (out.get(operation) ?? 0) + count);
      }
  return out;
}
