/**
 * Fault injection through the local runner: throttling, server errors, dropped connections and
 * lost answers, injected into the handlers' real AWS SDK clients (`injectFault`, SDK middleware
 * after the retry step) while they talk to DynamoDB Local and s3rver. Faults are chosen by
 * operation and attempt number, never at random, so every run sees the same failures.
 *
 * The clients use the SDK's standard retry strategy with its default budget (4 attempts per
 * DynamoDB request, 3 per S3 request; exponential backoff with jitter, a longer base delay for
 * throttling). The tests read that budget from the SDK rather than assuming it.
 */
import { request as httpRequest } from 'node:http';
import {
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChatError } from '../../client/chat/session.ts';
import { CONNECTIONS, MAILBOX } from '../../contract/schema.ts';
import { type InjectedFault, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { b64 } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { mailboxItems, newSession, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

// ─── Faults ─────────────────────────────────────────────────────────────────────────────────────

/** An AWS service error as the SDK deserializes it: the retry strategy classifies it by name and status. */
function serviceError(name: string, status: number): Error {
  return Object.assign(new Error('injected fault'), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}
const FAULTS = {
  provisionedThroughput: () =>
    new ProvisionedThroughputExceededException({
      message: 'injected fault',
      $metadata: { httpStatusCode: 400 },
    }),
  throttling: () => serviceError('ThrottlingException', 400),
  internal: () => new InternalServerError({ message: 'injected fault', $metadata: { httpStatusCode: 500 } }),
  /** The socket died mid-request: no HTTP status at all. */
  connectionReset: () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', $metadata: {} }),
  s3Internal: () => serviceError('InternalError', 500),
  s3SlowDown: () => serviceError('SlowDown', 503),
  gone: () => serviceError('GoneException', 410),
};

/** The retry budget the SDK gives a client of this kind when none is configured (as in the runner and on Lambda). */
async function maxAttemptsOf(Client: typeof DynamoDBClient | typeof S3Client): Promise<number> {
  const client = new Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    return await client.config.maxAttempts();
  } finally {
    client.destroy();
  }
}

type Plan = (service: string, operation: string, attempt: number) => InjectedFault | undefined;

/** Fails every request of `operation`: attempt n gets `errors[n - 1]` (attempts past the list pass). */
function failAttempts(
  operation: string,
  errors: (() => Error)[],
  options: { afterSend?: boolean } = {},
): Plan {
  return (_service, op, attempt) => {
    const error = op === operation ? errors[attempt - 1] : undefined;
    return error ? { error: error(), ...(options.afterSend ? { afterSend: true } : {}) } : undefined;
  };
}

let harness: TestRunner;
let plan: Plan | undefined;
/** Every attempt made while a plan was set: `operation#attempt`, and whether it was failed. */
let attempts: string[] = [];
/** Every request (SDK attempt) sent while a plan was set, by operation, as `onRequest` saw it. */
let requests: string[] = [];

beforeAll(async () => {
  harness = await startTestRunner({
    // The send path's own requests are counted here; the wake-ups (a stream function) are off it.
    streams: false,
    scheduleIntervalMs: 0,
    onRequest: (_service, operation) => {
      if (plan) requests.push(operation);
      return undefined;
    },
    injectFault: (service, operation, attempt) => {
      if (!plan) return undefined;
      const fault = plan(service, operation, attempt);
      attempts.push(`${operation}#${attempt}${fault ? ' failed' : ''}`);
      return fault;
    },
  });
});
afterAll(async () => {
  plan = undefined;
  await harness?.stop();
});
beforeEach(() => {
  plan = undefined;
  attempts = [];
  requests = [];
});

// ─── State ──────────────────────────────────────────────────────────────────────────────────────

/** The ids of the messages in `who`'s mailbox. */
async function mailboxOf(who: TestIdentity) {
  return (await mailboxItems(harness.clients.dynamo, harness.runner.tables.mailbox, who)).map((item) =>
    b64(item[MAILBOX.attributes.messageId] as Uint8Array),
  );
}

const text = (s: string) => new TextEncoder().encode(s);
const identities = () => Promise.all([registerIdentity(harness.runner), registerIdentity(harness.runner)]);

/**
 * Connects `who`, collects the backlog, waits until its acks have emptied the mailbox, and returns
 * what the app saw. (Closing right away could let `$disconnect` overtake a slow ack, which the
 * server then refuses as not_logged_in: the message would stay queued for the next login.)
 */
async function receiveAll(who: TestIdentity) {
  const b = newSession(harness.runner, who);
  await b.session.connect();
  await eventually(async () => (await mailboxOf(who)).length === 0, 20_000);
  await b.session.close();
  return b.received.map((message) => message.text);
}

// ─── DynamoDB ───────────────────────────────────────────────────────────────────────────────────

describe('faults: DynamoDB errors during a send', () => {
  it('retries throttling, a 500 and a reset connection: each acked message is stored once and delivered once', async () => {
    const [alice, bob] = await identities();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    const cases: [string, (() => Error)[]][] = [
      ['throttled', [FAULTS.provisionedThroughput, FAULTS.throttling]],
      ['server error', [FAULTS.internal]],
      ['connection reset', [FAULTS.connectionReset, FAULTS.internal]],
    ];
    for (const [name, errors] of cases) {
      attempts = [];
      plan = failAttempts('PutItem', errors);
      await a.session.send(bob.id, text(name));
      // The copy's one conditional put was tried again after each injected failure, then went through.
      expect(attempts.filter((entry) => entry.startsWith('PutItem#'))).toEqual([
        ...errors.map((_, i) => `PutItem#${i + 1} failed`),
        `PutItem#${errors.length + 1}`,
      ]);
    }
    plan = undefined;
    await a.session.close();
    expect(await mailboxOf(bob)).toHaveLength(3);
    expect((await receiveAll(bob)).sort()).toEqual(['connection reset', 'server error', 'throttled']);
  });

  it('retries reads too: a login and a backlog pull under failing reads, frame updates and deletes still deliver everything once', async () => {
    const [alice, bob] = await identities();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    for (const n of [1, 2, 3]) await a.session.send(bob.id, text(`m${n}`));
    await a.session.close();
    const reads: Plan[] = [
      failAttempts('GetItem', [FAULTS.connectionReset]),
      failAttempts('UpdateItem', [FAULTS.throttling]),
      failAttempts('Query', [FAULTS.internal, FAULTS.connectionReset]),
      failAttempts('BatchWriteItem', [FAULTS.throttling]),
    ];
    plan = (service, operation, attempt) => reads.map((p) => p(service, operation, attempt)).find(Boolean);
    const received = await receiveAll(bob);
    plan = undefined;
    for (const entry of [
      'GetItem#1 failed',
      'GetItem#2',
      'UpdateItem#2',
      'Query#2 failed',
      'Query#3',
      'BatchWriteItem#2',
    ])
      expect(attempts).toContain(entry);
    expect(received.sort()).toEqual(['m1', 'm2', 'm3']);
  });

  it('stores once when a write succeeded but its answer was lost and the SDK sent it again', async () => {
    const [alice, bob] = await identities();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    plan = failAttempts('PutItem', [FAULTS.internal], { afterSend: true });
    const { id } = await a.session.send(bob.id, text('ambiguous'));
    plan = undefined;
    await a.session.close();
    // The second attempt found the copy stored by the first (its condition failed): a duplicate.
    expect(attempts).toContain('PutItem#1 failed');
    expect(attempts).toContain('PutItem#2');
    expect(await mailboxOf(bob)).toEqual([b64(id)]);
    expect(await receiveAll(bob)).toEqual(['ambiguous']);
  });

  it('pushes to an online recipient after such a retried write, once', async () => {
    const [alice, bob] = await identities();
    const b = newSession(harness.runner, bob);
    await b.session.connect();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    plan = failAttempts('PutItem', [FAULTS.internal], { afterSend: true });
    await a.session.send(bob.id, text('pushed'));
    plan = undefined;
    expect(attempts).toContain('PutItem#1 failed');
    // Delivered by the push, without a new login or pull.
    await eventually(() => b.received.length > 0);
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    expect(b.received.map((message) => message.text)).toEqual(['pushed']);
    await a.session.close();
    await b.session.close();
  });

  it('out of retries: the sender gets unavailable or rate_limited, nothing is stored, and the resend is stored once', async () => {
    const [alice, bob] = await identities();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    const id = randomBytes(8);
    const always = (error: () => Error): Plan => failAttempts('PutItem', [error, error, error, error]);

    plan = always(FAULTS.internal);
    await expect(a.session.send(bob.id, text('hello'), 0, id)).rejects.toMatchObject({ code: 'unavailable' });
    // Every attempt the SDK's retry strategy allows (DynamoDB: 4 by default) was made and failed.
    const maxAttempts = await maxAttemptsOf(DynamoDBClient);
    expect(attempts.filter((entry) => entry.startsWith('PutItem#'))).toEqual(
      Array.from({ length: maxAttempts }, (_, i) => `PutItem#${i + 1} failed`),
    );
    plan = always(FAULTS.provisionedThroughput);
    const refused = await a.session.send(bob.id, text('hello'), 0, id).catch((error: ChatError) => error);
    expect(refused).toBeInstanceOf(ChatError);
    expect((refused as ChatError).code).toBe('rate_limited');
    plan = undefined;
    expect(await mailboxOf(bob)).toEqual([]);

    // The app sends again with the same id (as the SDK does after a reconnect): stored once.
    await a.session.send(bob.id, text('hello'), 0, id);
    await a.session.send(bob.id, text('hello'), 0, id);
    await a.session.close();
    expect(await mailboxOf(bob)).toEqual([b64(id)]);
    expect(await receiveAll(bob)).toEqual(['hello']);
  });

  it('pushes a message stored without the sender knowing when the sender sends it again', async () => {
    const [alice, bob] = await identities();
    const b = newSession(harness.runner, bob);
    await b.session.connect();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    const id = randomBytes(8);
    // The first attempt reaches DynamoDB and loses its answer; the SDK's retries fail before
    // reaching it: stored, but the sender hears unavailable and nothing is pushed (as after a crash
    // between the write and the push).
    plan = (_service, operation, attempt) =>
      operation === 'PutItem'
        ? { error: FAULTS.internal(), ...(attempt === 1 ? { afterSend: true } : {}) }
        : undefined;
    await expect(a.session.send(bob.id, text('stored, not pushed'), 0, id)).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(attempts.filter((entry) => entry.startsWith('PutItem#'))).toHaveLength(
      await maxAttemptsOf(DynamoDBClient),
    );
    plan = undefined;
    expect(await mailboxOf(bob)).toEqual([b64(id)]);
    expect(b.received).toEqual([]);
    // The resend is a duplicate for the store, and still reaches the online recipient by push.
    await a.session.send(bob.id, text('stored, not pushed'), 0, id);
    await eventually(() => b.received.length > 0);
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    expect(b.received.map((message) => message.text)).toEqual(['stored, not pushed']);
    await a.session.close();
    await b.session.close();
  });

  it('sends in no transaction: one send is a frame update, an owner-record read and a conditional put', async () => {
    const [alice, bob] = await identities();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    // Any plan records requests; this one fails nothing.
    plan = () => undefined;
    for (let i = 0; i < 16; i++) await a.session.send(bob.id, text(`n${i}`));
    plan = undefined;
    const count = (operation: string) => requests.filter((entry) => entry === operation).length;
    expect(count('TransactWriteItems')).toBe(0);
    expect(count('PutItem')).toBe(16);
    expect(count('GetItem')).toBe(16);
    // The frame updates, plus the sampled counter additions (one send in 8 on average).
    expect(count('UpdateItem')).toBeGreaterThanOrEqual(16);
    expect(count('UpdateItem')).toBeLessThan(16 * 3);
    // (The one BatchGetItem is the SDK's directory lookup of Bob's key, not the send.)
    expect({
      Query: count('Query'),
      BatchGetItem: count('BatchGetItem'),
      DeleteItem: count('DeleteItem'),
    }).toEqual({
      Query: 0,
      BatchGetItem: 1,
      DeleteItem: 0,
    });
    await a.session.close();
    expect((await receiveAll(bob)).length).toBe(16);
  });

  it('concurrent sends to one mailbox all get their ack and arrive once each', async () => {
    const [alice, bob] = await identities();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    const texts = Array.from({ length: 24 }, (_, i) => `c${i}`);
    await Promise.all(texts.map((t) => a.session.send(bob.id, text(t))));
    await a.session.close();
    expect((await receiveAll(bob)).sort()).toEqual([...texts].sort());
  });
});

// ─── @connections ───────────────────────────────────────────────────────────────────────────────

describe('faults: 410 on push', () => {
  it('forgets a recipient connection that answers 410 Gone; the message stays queued and arrives once on reconnect', async () => {
    const [alice, bob] = await identities();
    const b = newSession(harness.runner, bob);
    await b.session.connect();
    const a = newSession(harness.runner, alice);
    await a.session.connect();
    plan = failAttempts('PostToConnection', [FAULTS.gone]);
    await a.session.send(bob.id, text('after 410'));
    plan = undefined;
    expect(attempts).toContain('PostToConnection#1 failed');
    // A 410 is final: not retried.
    expect(attempts).not.toContain('PostToConnection#2');
    const { Items } = await harness.clients.dynamo.send(
      new ScanCommand({ TableName: harness.runner.tables.connections, ConsistentRead: true }),
    );
    const live = (Items ?? []).map((item) => item[CONNECTIONS.attributes.identity]);
    expect(live).not.toContain(bob.id);
    expect(live).toContain(alice.id);
    expect(b.received).toEqual([]);
    expect(await mailboxOf(bob)).toHaveLength(1);
    await b.session.close();
    await a.session.close();
    expect(await receiveAll(bob)).toEqual(['after 410']);
  });
});

// ─── S3 ─────────────────────────────────────────────────────────────────────────────────────────

describe('faults: S3 errors during a Safe PUT', () => {
  const url = () => `${harness.runner.safeUrl}backups/${'cd'.repeat(32)}`;
  const put = (bytes: Uint8Array) =>
    fetch(url(), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(bytes),
    });
  const get = async () => new Uint8Array(await (await fetch(url())).arrayBuffer());

  it('retries a transient S3 failure: the new backup replaces the old', async () => {
    expect((await put(randomBytes(300))).status).toBe(200);
    const next = randomBytes(400);
    plan = failAttempts('PutObject', [FAULTS.s3SlowDown, FAULTS.s3Internal]);
    expect((await put(next)).status).toBe(200);
    plan = undefined;
    // (Filtered: a chat session an earlier test closed may still be disconnecting meanwhile.)
    expect(attempts.filter((entry) => entry.startsWith('PutObject#'))).toEqual([
      'PutObject#1 failed',
      'PutObject#2 failed',
      'PutObject#3',
    ]);
    expect(Buffer.from(await get()).equals(Buffer.from(next))).toBe(true);
  });

  it('keeps the previous backup byte for byte when S3 refuses every attempt, and answers 503 unavailable', async () => {
    const previous = randomBytes(500);
    expect((await put(previous)).status).toBe(200);
    plan = failAttempts('PutObject', Array(10).fill(FAULTS.s3Internal));
    const failed = await put(randomBytes(600));
    plan = undefined;
    expect(attempts.filter((entry) => entry.startsWith('PutObject#'))).toHaveLength(
      await maxAttemptsOf(S3Client),
    );
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ error: 'unavailable' });
    expect(Buffer.from(await get()).equals(Buffer.from(previous))).toBe(true);
  });

  it('when S3 stored the upload but every answer was lost, the client hears 503 and GET returns the new backup whole', async () => {
    expect((await put(randomBytes(500))).status).toBe(200);
    const next = randomBytes(700);
    // Each attempt reaches s3rver and writes the whole object; only the answer is lost.
    plan = failAttempts('PutObject', Array(10).fill(FAULTS.s3Internal), { afterSend: true });
    const failed = await put(next);
    plan = undefined;
    expect(attempts.filter((entry) => entry.startsWith('PutObject#'))).toEqual(
      Array.from({ length: await maxAttemptsOf(S3Client) }, (_, i) => `PutObject#${i + 1} failed`),
    );
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ error: 'unavailable' });
    // Never a mix of old and new: the object is the new upload byte for byte (the client, told to
    // retry later, would send the same bytes again).
    const stored = await get();
    expect(stored.byteLength).toBe(next.byteLength);
    expect(Buffer.from(stored).equals(Buffer.from(next))).toBe(true);
  });

  it('keeps the previous backup when the upload breaks off mid-body: the handler never runs', async () => {
    const previous = randomBytes(500);
    expect((await put(previous)).status).toBe(200);
    const next = randomBytes(800);
    plan = () => undefined; // Record every attempt; fail none.
    // Announce 800 bytes, send 400, then the connection goes away (half-close, as a dropped client).
    const target = new URL(url());
    const answer = await new Promise<string>((resolve) => {
      const request = httpRequest({
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(next.byteLength) },
      });
      request.on('response', (response) => resolve(`status ${response.statusCode}`));
      request.on('error', (error) =>
        resolve(`error ${(error as NodeJS.ErrnoException).code ?? error.message}`),
      );
      request.write(Buffer.from(next.subarray(0, 400)), () => setTimeout(() => request.destroy(), 100));
    });
    // The client that broke off hears nothing from the server: its own request ended first.
    expect(answer).toMatch(/^error /);
    await new Promise((resolve) => setTimeout(resolve, 500));
    plan = undefined;
    expect(attempts.filter((entry) => entry.startsWith('PutObject'))).toEqual([]);
    expect(Buffer.from(await get()).equals(Buffer.from(previous))).toBe(true);
  });
});

// ─── Logs ───────────────────────────────────────────────────────────────────────────────────────

describe('faults: what the logs say', () => {
  it('names no identity in any log line written while faults were injected', async () => {
    const ids: string[] = [];
    const { Items } = await harness.clients.dynamo.send(
      new ScanCommand({ TableName: harness.runner.tables.identities, ConsistentRead: true }),
    );
    for (const item of Items ?? []) ids.push(String(item.identity));
    expect(ids.length).toBeGreaterThan(5);
    for (const line of harness.logLines) for (const id of ids) expect(line).not.toContain(id);
    expect(harness.logLines.some((line) => line.includes('"code":"unavailable"'))).toBe(true);
  });
});
