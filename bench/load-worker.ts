/**
 * The chat benchmarks' load generator, run as a child process (bench/fleet.ts starts it) so that
 * the clients' work — handshakes, NaCl boxes, WebSocket framing — does not share the local
 * runner's event loop, as real clients don't share a Lambda's.
 *
 * It holds many ChatSessions (the real client SDK over real WebSockets), sends 1 KiB messages to
 * random contacts in a closed loop (each sender waits for its server ack) or an open loop (Poisson
 * arrivals at a set rate), and accounts for every message: a message the server acked must reach
 * its recipient exactly once. It also runs the raw DynamoDB Local baseline from this same process.
 * Commands arrive over the IPC channel; see the `Command` type.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { WebSocket } from 'ws';
import { ChatError, ChatSession, type SocketLike } from '../client/chat/session.ts';
import { localTableName, MAILBOX } from '../contract/schema.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { fromHex } from '../protocol/bytes.ts';
import { generateKeyPair, type KeyPair } from '../protocol/crypto.ts';
import { randomIdentityId } from '../protocol/identity.ts';

/** Every benchmark message carries this many bytes of body (the box is 16 bytes more). */
export const BODY_BYTES = 1024;

export type Command =
  | { readonly type: 'identities'; readonly count: number }
  | {
      readonly type: 'connect';
      readonly wsUrl: string;
      readonly serverPublicKey: string;
      readonly from: number;
      readonly to: number;
      readonly parallel: number;
      readonly ackBatch?: number;
      readonly ackDelayMs?: number;
    }
  | { readonly type: 'disconnect'; readonly from: number; readonly to: number }
  | { readonly type: 'contacts'; readonly active: number; readonly perClient: number }
  | {
      readonly type: 'load';
      readonly mode: 'closed' | 'open';
      readonly active: number;
      readonly warmupMs: number;
      readonly windowMs: number;
      /** Open loop: messages per second over all senders. */
      readonly rate?: number;
    }
  | {
      readonly type: 'burst';
      /** Senders and their recipients, as client indexes; each sender sends `perSender` messages. */
      readonly senders: readonly number[];
      readonly recipients: readonly number[];
      readonly perSender: number;
    }
  | { readonly type: 'drain'; readonly timeoutMs: number }
  | {
      readonly type: 'baseline';
      readonly endpoint: string;
      readonly mode: 'closed' | 'open';
      /** Closed loop: pairs in flight. */
      readonly concurrency?: number;
      /** Open loop: pairs per second. */
      readonly rate?: number;
      readonly warmupMs: number;
      readonly windowMs: number;
    }
  | { readonly type: 'frames' }
  | { readonly type: 'cpu' }
  | { readonly type: 'close' };

/** Accounting of every message since the last `drain`. */
export interface Ledger {
  /** Messages the server acked (stored). */
  readonly acked: number;
  /** Acked messages that reached their recipient. */
  readonly delivered: number;
  /** Acked messages that never arrived (after the drain's wait). */
  readonly lost: number;
  /** Messages the SDK handed to the app more than once (its dedup should make this 0). */
  readonly duplicates: number;
  /** Pushed `message` frames beyond one per delivered message (at-least-once redeliveries the SDK dropped). */
  readonly redelivered: number;
  /** Messages that arrived but were never acked to the sender. */
  readonly unacknowledgedDeliveries: number;
  /** Refused sends by error code, and sends with no answer in time. */
  readonly sendErrors: Record<string, number>;
}

export interface LoadResult {
  readonly windowMs: number;
  /** Messages delivered (first arrival) inside the measurement window. */
  readonly deliveredInWindow: number;
  /** send → deliver latency (ms) of the messages sent inside the window. */
  readonly latencies: number[];
  readonly ledger: Ledger;
}

export interface BaselineResult {
  readonly windowMs: number;
  readonly pairsInWindow: number;
  /** Put+Delete pair latency (ms) of pairs started inside the window. */
  readonly latencies: number[];
  readonly errors: number;
}

/** Frames per action in each direction, with bytes. */
export type FrameCounts = Record<string, { in: number; out: number; bytesIn: number; bytesOut: number }>;

interface Client {
  readonly id: string;
  readonly keys: KeyPair;
  session?: ChatSession;
  contacts: number[];
  nextSeq: number;
  lastDeliveryAt: number;
}

interface Sent {
  readonly startedAt: number;
  acked: boolean;
  deliveredAt?: number;
}

const SEND_TIMEOUT_MS = 20_000;
const ACTION = /^\{"action":"([A-Za-z$]{1,32})"/;

const clients: Client[] = [];
const publicKeys = new Map<string, Uint8Array>();
let messages = new Map<string, Sent>();
let duplicates = 0;
let strays = 0;
/** Pushed `message` frames received since the last drain (backlog pages are `queue` frames). */
let messageFrames = 0;
let sendErrors: Record<string, number> = {};
let ackDelayMs = 200;
const frames: FrameCounts = {};
const inFlight = new Set<Promise<unknown>>();

function countFrame(direction: 'in' | 'out', data: string | Buffer): void {
  const text = typeof data === 'string' ? data.slice(0, 48) : data.toString('utf8', 0, 48);
  const action = ACTION.exec(text)?.[1] ?? 'other';
  const entry = frames[action] ?? { in: 0, out: 0, bytesIn: 0, bytesOut: 0 };
  frames[action] = entry;
  entry[direction]++;
  if (direction === 'in') entry.bytesIn += data.length;
  else entry.bytesOut += Buffer.byteLength(data);
}

const now = () => performance.now();
const keyOf = (sender: string, seq: number) => `${sender}:${seq}`;

function body(seq: number): Uint8Array {
  const bytes = new Uint8Array(BODY_BYTES);
  new DataView(bytes.buffer).setUint32(0, seq);
  return bytes;
}

/** A socket whose frames are counted per action; its `message` frames per message too. */
async function countingSocket(url: string): Promise<SocketLike> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const send = ws.send.bind(ws);
  ws.send = ((data: string) => {
    countFrame('out', data);
    send(data);
  }) as typeof ws.send;
  ws.on('message', (data: Buffer) => {
    countFrame('in', data);
    if (data.toString('utf8', 0, 18) === '{"action":"message') messageFrames++;
  });
  return ws as unknown as SocketLike;
}

function track<T>(promise: Promise<T>): Promise<T> {
  inFlight.add(promise);
  void promise.finally(() => inFlight.delete(promise)).catch(() => {});
  return promise;
}

function openSession(client: Client, wsUrl: string, serverPublicKey: Uint8Array, ackBatch?: number) {
  const session = new ChatSession({
    url: wsUrl,
    serverPublicKey,
    identity: client.id,
    keys: client.keys,
    publicKeyOf: async (identity) => {
      const key = publicKeys.get(identity);
      if (!key) throw new Error('unknown peer');
      return key;
    },
    createSocket: countingSocket,
    reconnect: false,
    ackDelayMs,
    ...(ackBatch ? { ackBatch } : {}),
  });
  session.onMessage = (message) => {
    const seq = new DataView(message.body.buffer, message.body.byteOffset).getUint32(0);
    const sent = messages.get(keyOf(message.sender, seq));
    client.lastDeliveryAt = now();
    if (!sent) {
      strays++;
      return;
    }
    if (sent.deliveredAt !== undefined) duplicates++;
    else sent.deliveredAt = now();
  };
  return session;
}

/** Sends one message and records it; resolves when the server answered (or didn't in time). */
async function sendOne(client: Client, to: Client): Promise<void> {
  const seq = client.nextSeq++;
  const record: Sent = { startedAt: now(), acked: false };
  messages.set(keyOf(client.id, seq), record);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.session!.send(to.id, body(seq)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new ChatError('no_answer')), SEND_TIMEOUT_MS);
      }),
    ]);
    record.acked = true;
  } catch (error) {
    const code = error instanceof ChatError ? error.code : 'exception';
    sendErrors[code] = (sendErrors[code] ?? 0) + 1;
  } finally {
    clearTimeout(timer);
  }
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Exponentially distributed gap (ms) for a Poisson process with `perSecond` events per second. */
const gap = (perSecond: number) => (-Math.log(1 - Math.random()) * 1000) / perSecond;

const sleepUntil = (at: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - now())));

async function load(command: Extract<Command, { type: 'load' }>): Promise<LoadResult> {
  const senders = clients.slice(0, command.active);
  const start = now();
  const from = start + command.warmupMs;
  const to = from + command.windowMs;
  if (command.mode === 'closed') {
    await Promise.all(
      senders.map(async (client) => {
        while (now() < to) await track(sendOne(client, clients[pick(client.contacts)]!));
      }),
    );
  } else {
    const perSender = command.rate! / senders.length;
    await Promise.all(
      senders.map(async (client) => {
        for (let at = start + gap(perSender); at < to; at += gap(perSender)) {
          await sleepUntil(at);
          void track(sendOne(client, clients[pick(client.contacts)]!));
        }
      }),
    );
  }
  const { ledger, sent: all } = await drain(30_000);
  let deliveredInWindow = 0;
  const latencies: number[] = [];
  for (const sent of all.values()) {
    if (sent.deliveredAt === undefined) continue;
    if (sent.deliveredAt >= from && sent.deliveredAt < to) deliveredInWindow++;
    if (sent.startedAt >= from && sent.startedAt < to) latencies.push(sent.deliveredAt - sent.startedAt);
  }
  return { windowMs: command.windowMs, deliveredInWindow, latencies, ledger };
}

/**
 * Waits until every send has its answer, every acked message has arrived, and every recipient's
 * acks have been sent (no delivery for longer than the SDK's ack delay); then balances the books
 * and starts a new ledger. Acks of pushed messages get no answer, so whether the server has handled
 * them is for the caller to see on the runner (`InstrumentedRunner.quiet`).
 */
async function drain(timeoutMs: number): Promise<{ ledger: Ledger; sent: Map<string, Sent> }> {
  const deadline = now() + timeoutMs;
  while (inFlight.size > 0 && now() < deadline) await Promise.race([...inFlight, sleepUntil(now() + 100)]);
  const settled = () =>
    [...messages.values()].every((sent) => !sent.acked || sent.deliveredAt !== undefined) &&
    clients.every((client) => !client.session || now() - client.lastDeliveryAt > ackDelayMs + 100);
  while (!settled() && now() < deadline) await sleepUntil(now() + 25);
  let acked = 0;
  let delivered = 0;
  let unacknowledgedDeliveries = 0;
  let pushedOrPulled = 0;
  for (const sent of messages.values()) {
    if (sent.acked) acked++;
    if (sent.deliveredAt !== undefined) {
      pushedOrPulled++;
      if (sent.acked) delivered++;
      else unacknowledgedDeliveries++;
    }
  }
  // Every delivered message came as one push or in a backlog page; pushes beyond that are repeats.
  const redelivered = Math.max(0, messageFrames - pushedOrPulled);
  const ledger: Ledger = {
    acked,
    delivered,
    lost: acked - delivered,
    duplicates,
    redelivered,
    unacknowledgedDeliveries: unacknowledgedDeliveries + strays,
    sendErrors,
  };
  const sent = messages;
  messages = new Map();
  duplicates = 0;
  strays = 0;
  messageFrames = 0;
  sendErrors = {};
  return { ledger, sent };
}

/**
 * The baseline: PutItem of a mailbox-shaped item (1 KiB box) and DeleteItem of it, with the SDK
 * client the handlers use, straight against DynamoDB Local.
 */
async function baseline(command: Extract<Command, { type: 'baseline' }>): Promise<BaselineResult> {
  const aws = createClients({
    endpoints: { dynamodb: command.endpoint },
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const table = localTableName('mailbox');
  const A = MAILBOX.attributes;
  const box = new Uint8Array(randomBytes(BODY_BYTES + 16));
  let errors = 0;
  const pairs: { startedAt: number; endedAt: number }[] = [];
  const pair = async () => {
    const startedAt = now();
    const key = { [A.recipient]: `BENCH${randomUUID().slice(0, 8)}`, [A.key]: `m#BASELINE#${randomUUID()}` };
    try {
      await aws.dynamo.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...key,
            [A.seq]: `${String(Date.now()).padStart(16, '0')}#${randomBytes(4).toString('hex')}`,
            [A.sender]: 'BASELINE',
            [A.messageId]: new Uint8Array(randomBytes(8)),
            [A.nonce]: new Uint8Array(randomBytes(24)),
            [A.box]: box,
            [A.flags]: 0,
            [A.sentAt]: Date.now(),
            [A.bytes]: box.length,
            [A.expiresAt]: Math.floor(Date.now() / 1000) + 3600,
          },
          ConditionExpression: 'attribute_not_exists(#k)',
          ExpressionAttributeNames: { '#k': A.key },
        }),
      );
      await aws.dynamo.send(new DeleteCommand({ TableName: table, Key: key }));
      pairs.push({ startedAt, endedAt: now() });
    } catch {
      errors++;
    }
  };
  const start = now();
  const from = start + command.warmupMs;
  const to = from + command.windowMs;
  try {
    if (command.mode === 'closed') {
      await Promise.all(
        Array.from({ length: command.concurrency! }, async () => {
          while (now() < to) await pair();
        }),
      );
    } else {
      const running = new Set<Promise<void>>();
      for (let at = start + gap(command.rate!); at < to; at += gap(command.rate!)) {
        await sleepUntil(at);
        const p = pair().finally(() => running.delete(p));
        running.add(p);
      }
      await Promise.all(running);
    }
  } finally {
    aws.destroy();
  }
  return {
    windowMs: command.windowMs,
    pairsInWindow: pairs.filter((p) => p.endedAt >= from && p.endedAt < to).length,
    latencies: pairs
      .filter((p) => p.startedAt >= from && p.startedAt < to)
      .map((p) => p.endedAt - p.startedAt),
    errors,
  };
}

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'identities': {
      const created = [];
      for (let i = 0; i < command.count; i++) {
        const id = randomIdentityId((n) => new Uint8Array(randomBytes(n)));
        if (publicKeys.has(id)) {
          i--;
          continue;
        }
        const keys = generateKeyPair();
        publicKeys.set(id, keys.publicKey);
        clients.push({ id, keys, contacts: [], nextSeq: 0, lastDeliveryAt: 0 });
        created.push({ id, publicKey: keys.publicKey });
      }
      return created;
    }
    case 'connect': {
      if (command.ackDelayMs !== undefined) ackDelayMs = command.ackDelayMs;
      const serverPublicKey = fromHex(command.serverPublicKey)!;
      const queue = clients.slice(command.from, command.to);
      const started = now();
      let failed = 0;
      await Promise.all(
        Array.from({ length: command.parallel }, async () => {
          for (let client = queue.shift(); client; client = queue.shift()) {
            const session = openSession(client, command.wsUrl, serverPublicKey, command.ackBatch);
            try {
              await session.connect();
              client.session = session;
            } catch {
              failed++;
            }
          }
        }),
      );
      return { ms: now() - started, failed };
    }
    case 'disconnect': {
      for (const client of clients.slice(command.from, command.to)) {
        await client.session?.close();
        client.session = undefined;
      }
      return {};
    }
    case 'contacts': {
      const active = command.active;
      for (let i = 0; i < active; i++) {
        const others = new Set<number>();
        const want = Math.min(command.perClient, active - 1);
        while (others.size < want) {
          const other = Math.floor(Math.random() * active);
          if (other !== i) others.add(other);
        }
        clients[i]!.contacts = [...others];
      }
      return {};
    }
    case 'load':
      return load(command);
    case 'burst': {
      await Promise.all(
        command.senders.map(async (index) => {
          const client = clients[index]!;
          const others = command.recipients.filter((recipient) => recipient !== index);
          for (let i = 0; i < command.perSender; i++) await track(sendOne(client, clients[pick(others)]!));
        }),
      );
      return {};
    }
    case 'drain':
      return (await drain(command.timeoutMs)).ledger;
    case 'baseline':
      return baseline(command);
    case 'frames':
      return structuredClone(frames);
    case 'cpu': {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    }
    case 'close': {
      await Promise.all(clients.map((client) => client.session?.close()));
      return {};
    }
  }
}

process.on('message', (message: { id: number; command: Command }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, result }),
    (error: unknown) => process.send!({ id: message.id, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
