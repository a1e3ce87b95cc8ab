/**
 * P12, push wake-ups: what one wake-up costs, measured on the local runner. Each message goes to a
 * recipient with no live session and one Web Push target (a push service on 127.0.0.1 that counts
 * what it gets), one at a time: every AWS SDK request between the send's ack and the wake-up's
 * arrival (plus a settle) is the wake-up's (nothing else runs), every `wakeups` log line is one
 * stream-function invocation with its duration. Priced with P4's table (bench/requests.ts PRICES).
 * The send path itself is P3/P4's: the stream adds no request to it.
 */

import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatSession } from '../client/chat/session.ts';
import { DirectoryClient } from '../client/directory/client.ts';
import { addPushTarget } from '../client/push/client.ts';
import { fromHex } from '../protocol/bytes.ts';
import { generateKeyPair, type KeyPair } from '../protocol/crypto.ts';
import { startBenchRunner } from './instrument.ts';
import { PRICES } from './requests.ts';
import { type BenchReport, fixed, loadAverage, machine, markdownTable, sleep, stats } from './support.ts';

/** A subscription's keys as a browser makes them; the bench's push service never decrypts. */
function subscriptionKeys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey('base64url'), auth: randomBytes(16).toString('base64url') };
}

export interface PushBenchResult {
  readonly messages: number;
  readonly invocationsPerWake: number;
  readonly dynamoPerWake: Readonly<Record<string, number>>;
  readonly providerPerWake: number;
  readonly bodyBytes: number;
  readonly durationMs: ReturnType<typeof stats>;
  readonly load: readonly [number, number];
}

export async function runPushBench(options: { quick: boolean }): Promise<PushBenchResult> {
  const loadAtStart = loadAverage();
  const messages = options.quick ? 5 : 20;
  const posts: number[] = [];
  const service = createServer((request, response) => {
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    request.on('end', () => {
      posts.push(size);
      response.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  let counting = false;
  const requests: Record<string, number> = {};
  const durations: number[] = [];
  const { runner, stop } = await startBenchRunner('push', {
    sweepIntervalMs: 0,
    scheduleIntervalMs: 0,
    logSink: (line) => {
      const fields = JSON.parse(line) as { route?: string; durationMs?: number };
      if (counting && fields.route === 'wakeups') durations.push(fields.durationMs ?? 0);
    },
    onRequest: (serviceName, operation) => {
      if (counting)
        requests[`${serviceName} ${operation}`] = (requests[`${serviceName} ${operation}`] ?? 0) + 1;
      return undefined;
    },
  });
  const directory = new DirectoryClient({ server: runner.httpUrl });
  const open = (identity: string, keys: KeyPair) =>
    new ChatSession({
      url: runner.wsUrl,
      serverPublicKey: fromHex(runner.serverPublicKey)!,
      identity,
      keys,
      publicKeyOf: async (peer) => (await directory.lookup(peer))!.publicKey!,
      reconnect: false,
      receive: false,
    });
  try {
    const senderKeys = generateKeyPair();
    const sender = open(await directory.createIdentity(senderKeys), senderKeys);
    await sender.connect();
    for (let index = 0; index < messages; index++) {
      const keys = generateKeyPair();
      const recipient = await directory.createIdentity(keys);
      const session = open(recipient, keys);
      await session.connect();
      await addPushTarget(session, {
        kind: 'webpush',
        endpoint: `${origin}/push/${index}`,
        ...subscriptionKeys(),
      });
      await session.close();
      const before = posts.length;
      await sender.send(recipient, new TextEncoder().encode('bench'));
      counting = true;
      const deadline = Date.now() + 30_000;
      while (posts.length === before && Date.now() < deadline) await sleep(10);
      await sleep(300);
      counting = false;
    }
    await sender.close();
  } finally {
    await stop();
    service.close();
  }
  const dynamoPerWake = Object.fromEntries(
    Object.entries(requests)
      .filter(([key]) => key.startsWith('DynamoDB '))
      .map(([key, count]) => [key.slice('DynamoDB '.length), count / messages]),
  );
  return {
    messages,
    invocationsPerWake: durations.length / messages,
    dynamoPerWake,
    providerPerWake: posts.length / messages,
    bodyBytes: posts[0] ?? 0,
    durationMs: stats(durations),
    load: [loadAtStart, loadAverage()],
  };
}

/** Lambda memory of every function (lib/constructs/manifest-function.ts), in GB. */
const MEMORY_GB = 256 / 1024;

export function pushReport(result: PushBenchResult): BenchReport {
  const reads = result.dynamoPerWake.GetItem ?? 0;
  const writes = (result.dynamoPerWake.UpdateItem ?? 0) + (result.dynamoPerWake.PutItem ?? 0);
  const perMillion = (perWake: number, price: number) => perWake * price * 1e6;
  const lines: [string, number][] = [
    [
      'Lambda requests (one invocation per wake-up here; up to 100 records per batch at load)',
      perMillion(result.invocationsPerWake, PRICES.lambdaRequest),
    ],
    [
      'Lambda duration (256 MB, median measured)',
      perMillion(
        result.invocationsPerWake * (result.durationMs.median / 1000) * MEMORY_GB,
        PRICES.lambdaGbSecond,
      ),
    ],
    ['DynamoDB reads (owner record, strongly consistent, ≤ 4 KB)', perMillion(reads, PRICES.dynamoRru)],
    ['DynamoDB writes (the debounce claim on `#push`, ≤ 1 KB)', perMillion(writes, PRICES.dynamoWru)],
    [
      'Data out to the push service (body + ~1 KB of headers)',
      perMillion(((result.bodyBytes + 1024) / 2 ** 30) * result.providerPerWake, PRICES.transferOutGb),
    ],
  ];
  const total = lines.reduce((sum, [, dollars]) => sum + dollars, 0);
  const summary = `push: ${fixed(result.invocationsPerWake, 2)} stream invocations, ${fixed(reads + writes, 2)} DynamoDB requests, ${fixed(result.providerPerWake, 2)} provider requests per wake-up; ≈ $${fixed(total, 2)} per million wake-ups (P4 prices)`;
  return {
    id: 'P12',
    name: 'push',
    summary,
    section: (command) => `## P12 — push wake-ups: requests and cost per wake-up

${machine(command, result.load)}

${result.messages} messages, each to a recipient with no live session and one Web Push target, one
at a time; counted between the send's ack and the wake-up's arrival at a push service on 127.0.0.1.
The stream's reads (GetRecords) are not counted: DynamoDB Streams reads by Lambda are free. Filtered
records (every other mailbox write) invoke nothing. By design a wake-up is one GetItem (the owner
record) and one UpdateItem (the debounce claim); a GetItem below 1.00 is a wake-up that read before
the sender had its ack, outside the counting window.

${markdownTable(
  ['per wake-up', 'count'],
  [
    ['stream-function invocations', fixed(result.invocationsPerWake, 2)],
    ...Object.entries(result.dynamoPerWake).map(([operation, count]) => [
      `DynamoDB ${operation}`,
      fixed(count, 2),
    ]),
    ['push provider requests', fixed(result.providerPerWake, 2)],
    ['Web Push body bytes', String(result.bodyBytes)],
    [
      'handler duration, ms (min / median / max)',
      `${fixed(result.durationMs.min)} / ${fixed(result.durationMs.median)} / ${fixed(result.durationMs.max)}`,
    ],
  ],
  [false, true],
)}

Cost per million wake-ups, ${PRICES.region}, prices of ${PRICES.date} (P4's table):

${markdownTable(['item', '$ per million wake-ups'], [...lines.map(([item, dollars]) => [item, fixed(dollars, 2)]), ['**total**', `**${fixed(total, 2)}**`]], [false, true])}

Messages inside the debounce interval cost the read and a refused conditional write (a refused write
still consumes a write unit), no provider request. Web Push, FCM and APNs charge nothing per message.
`,
  };
}
