/**
 * The delivery path under attack, through the runner with raw clients: what a sender can make the
 * switch push, store or recount, and what a middlebox can do with frames it captured.
 */
import { BatchWriteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAILBOX } from '../../contract/schema.ts';
import type { AwsClients } from '../../lambdas/runtime/clients.ts';
import type { Runner } from '../../local/runner.ts';
import { b64, FLAGS } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { mailboxItems, RawClient, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';

let harness: TestRunner;
let runner: Runner;
let clients: AwsClients;

beforeAll(async () => {
  harness = await startTestRunner();
  ({ runner, clients } = harness);
});

afterAll(() => harness?.stop());

const identity = () => registerIdentity(runner);

/** A logged-in raw client that keeps every `message` push it receives. */
async function online(who: TestIdentity) {
  const client = await RawClient.open(runner);
  expect((await client.login(who)).action).toBe('loginAck');
  return client;
}

/**
 * Sends `count` send frames, `batch` at a time (each batch answered before the next: fewer frames
 * in flight than the replay window), and returns the answers' actions and codes. Pushes that
 * arrive on the same socket are not expected (the sender is not a recipient).
 */
async function sendMany(client: RawClient, count: number, payload: () => unknown) {
  const answers: string[] = [];
  for (let sent = 0; sent < count; ) {
    const batch = Math.min(20, count - sent);
    for (let i = 0; i < batch; i++) client.sendSession('send', payload());
    for (let i = 0; i < batch; i++) {
      const { action, payload: answer } = await client.nextSession();
      answers.push(action === 'sendError' ? String(answer.code) : action);
    }
    sent += batch;
  }
  return answers;
}

/**
 * Counts the `message` pushes a raw client receives until `done` has settled and then none came
 * for `quietMs`.
 */
async function countPushes(client: RawClient, done: Promise<unknown>, quietMs = 1500): Promise<number> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  let pushes = 0;
  for (;;) {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(await client.socket.next(quietMs));
    } catch {
      if (finished) return pushes;
      continue;
    }
    if (frame.action === 'message') pushes++;
  }
}

const ATTEMPTS = 1000;

/** Fixed send windows a test touched, from its start and end times (ms). */
function windowsSpanned(startMs: number, endMs: number): number {
  return Math.floor(endMs / 60_000) - Math.floor(startMs / 60_000) + 1;
}

/**
 * How far above LIMITS.sendsPerMinute one window may let sends pass: the sampled count reaches the
 * limit after a negative-binomial number of sends (mean ≈ the limit, standard deviation ≈ 46 for
 * 300 in samples of 8), plus the frames already in flight when the block is set (20 here).
 */
const SAMPLING_SLACK = 200;

/**
 * At most about LIMITS.sendsPerMinute sends pass per window (plus SAMPLING_SLACK);
 * at least one send was refused (on a slow machine the test may span three windows, still fewer
 * than ATTEMPTS sends each); and a push went out for no more sends than passed.
 */
function expectWithinRate(answers: string[], pushes: number, startMs: number) {
  const passed = answers.filter((answer) => answer === 'sendAck').length;
  const refused = answers.filter((answer) => answer === 'rate_limited').length;
  expect(passed + refused).toBe(ATTEMPTS);
  expect(refused).toBeGreaterThan(0);
  expect(passed).toBeLessThanOrEqual(
    windowsSpanned(startMs, Date.now()) * (LIMITS.sendsPerMinute + SAMPLING_SLACK),
  );
  expect(pushes).toBeGreaterThan(0);
  // A push can fail (the message is then dropped or waits); none goes out for a refused send.
  expect(pushes).toBeLessThanOrEqual(passed);
}

describe('chat abuse: the send rate', () => {
  it('counts no-queue sends: a sender cannot push without limit by skipping the queue', async () => {
    const [mallory, victim] = [await identity(), await identity()];
    const target = await online(victim);
    const attacker = await online(mallory);
    const start = Date.now();
    const sending = sendMany(attacker, ATTEMPTS, () =>
      RawClient.sendPayload(mallory, [victim], 'typing', randomBytes(8), FLAGS.noQueue),
    );
    const pushes = countPushes(target, sending);
    expectWithinRate(await sending, await pushes, start);
    attacker.socket.socket.close();
    target.socket.socket.close();
  }, 120_000);

  it('counts re-sends of one stored id: each is pushed again only within the rate', async () => {
    const [mallory, victim] = [await identity(), await identity()];
    const target = await online(victim);
    const attacker = await online(mallory);
    const start = Date.now();
    const id = randomBytes(8);
    const sending = sendMany(attacker, ATTEMPTS, () => RawClient.sendPayload(mallory, [victim], 'again', id));
    const pushes = countPushes(target, sending);
    expectWithinRate(await sending, await pushes, start);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, victim)).toHaveLength(1);
    attacker.socket.socket.close();
    target.socket.socket.close();
  }, 120_000);
});

describe('chat abuse: replayed frames', () => {
  it('refuses a captured send replayed after the recipient acked it: not stored, not pushed', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const sender = await online(alice);
    const captured = sender.sealSession('send', RawClient.sendPayload(alice, [bob], 'once'));
    sender.socket.send(captured);
    expect((await sender.nextSession()).action).toBe('sendAck');
    const [item] = await mailboxItems(clients.dynamo, runner.tables.mailbox, bob);
    const recipient = await online(bob);
    recipient.sendSession('ack', {
      messages: [{ sender: alice.id, id: b64(item!.messageId as Uint8Array) }],
      reply: true,
    });
    expect((await recipient.nextSession()).action).toBe('acked');
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, bob)).toHaveLength(0);

    sender.socket.send(captured);
    const pushes = countPushes(recipient, Promise.resolve());
    expect(await sender.nextSession()).toEqual({ action: 'error', payload: { code: 'replayed' } });
    expect(await pushes).toBe(0);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, bob)).toHaveLength(0);
    sender.socket.socket.close();
    recipient.socket.socket.close();
  });

  it('accepts frames out of order within the window, each number once', async () => {
    const alice = await identity();
    const client = await online(alice);
    const window = LIMITS.replayWindowFrames;
    const pull = (counter: number) => client.socket.send(client.sealSession('pull', {}, counter));
    const answer = async () => (await client.nextSession()).action;
    for (const counter of [5, 3, 3 + window, 4]) {
      pull(counter);
      expect(await answer()).toBe('queue');
    }
    for (const counter of [3, 5, 4, 3 + window]) {
      pull(counter);
      expect(await answer()).toBe('error');
    }
    // Behind a later number in its slot: refused, though never used itself.
    pull(2 + window * 2);
    expect(await answer()).toBe('queue');
    pull(2 + window);
    expect(await client.nextSession()).toEqual({ action: 'error', payload: { code: 'replayed' } });
    client.socket.socket.close();
  });
});

describe('chat abuse: a full mailbox', () => {
  it('refuses only the senders holding a share of a full mailbox, sealed, recounting at most once per interval', async () => {
    const [stranger, bob, friend] = [await identity(), await identity(), await identity()];
    const filler = await online(stranger);
    const sendFrom = async (client: RawClient, from: TestIdentity) => {
      client.sendSession('send', RawClient.sendPayload(from, [bob], 'more'));
      const { action, payload } = await client.nextSession();
      return action === 'sendError' ? payload.code : action;
    };
    expect(await sendFrom(filler, stranger)).toBe('sendAck');
    // The stranger fills Bob's mailbox to its message limit (straight in the table: the send rate
    // would take minutes), then its counters say full.
    const now = Math.floor(Date.now() / 1000);
    const A = MAILBOX.attributes;
    const items = Array.from({ length: LIMITS.mailboxMaxMessages }, (_, index) => ({
      [A.recipient]: bob.id,
      [A.key]: `m#${stranger.id}#${index.toString(16).padStart(16, '0')}`,
      [A.seq]: `${String(Date.now()).padStart(16, '0')}#${index}`,
      [A.sender]: stranger.id,
      [A.messageId]: randomBytes(8),
      [A.nonce]: randomBytes(24),
      [A.box]: randomBytes(16),
      [A.flags]: 0,
      [A.sentAt]: Date.now(),
      [A.bytes]: 16,
      [A.expiresAt]: now + 3600,
    }));
    const write = (request: 'PutRequest' | 'DeleteRequest') =>
      Promise.all(
        Array.from({ length: Math.ceil(items.length / 25) }, (_, batch) =>
          clients.dynamo.send(
            new BatchWriteCommand({
              RequestItems: {
                [runner.tables.mailbox]: items
                  .slice(batch * 25, batch * 25 + 25)
                  .map((item) =>
                    request === 'PutRequest'
                      ? { PutRequest: { Item: item } }
                      : { DeleteRequest: { Key: { [A.recipient]: bob.id, [A.key]: item[A.key] } } },
                  ),
              },
            }),
          ),
        ),
      );
    await write('PutRequest');
    const owner = { [A.recipient]: bob.id, [A.key]: '#owner' };
    const ownerRecord = async () =>
      (
        await clients.dynamo.send(
          new GetCommand({ TableName: runner.tables.mailbox, Key: owner, ConsistentRead: true }),
        )
      ).Item ?? {};
    const setOwner = (attribute: string, value: number) =>
      clients.dynamo.send(
        new UpdateCommand({
          TableName: runner.tables.mailbox,
          Key: owner,
          UpdateExpression: 'SET #a = :v',
          ExpressionAttributeNames: { '#a': attribute },
          ExpressionAttributeValues: { ':v': value },
        }),
      );
    await setOwner(A.count, LIMITS.mailboxMaxMessages);

    // The counters say full: a recount confirms it and finds the stranger holding its share, so
    // the stranger's send is refused, sealed.
    expect(await sendFrom(filler, stranger)).toBe('mailbox_full');
    const recounted = await ownerRecord();
    expect(recounted[A.count]).toBe(LIMITS.mailboxMaxMessages + 1);
    expect(recounted[A.heavy]).toEqual([stranger.id]);

    // Bob's friend holds nothing in the full mailbox: its message is stored for Bob.
    const fromFriend = await online(friend);
    expect(await sendFrom(fromFriend, friend)).toBe('sendAck');
    const stored = await mailboxItems(clients.dynamo, runner.tables.mailbox, bob);
    expect(stored.some((item) => item[A.sender] === friend.id)).toBe(true);

    // The mailbox empties (as if acked), but within the interval nothing recounts it again: the
    // stranger stays refused from the owner record, the friend gets through.
    await write('DeleteRequest');
    for (let i = 0; i < 5; i++) expect(await sendFrom(filler, stranger)).toBe('mailbox_full');
    expect(await sendFrom(fromFriend, friend)).toBe('sendAck');
    expect((await ownerRecord())[A.recountedAt]).toBe(recounted[A.recountedAt]);

    // Once the interval has passed, the next send recounts, finds room and is stored.
    await setOwner(A.recountedAt, now - LIMITS.mailboxRecountSeconds - 1);
    expect(await sendFrom(filler, stranger)).toBe('sendAck');
    expect((await ownerRecord())[A.heavy]).toEqual([]);
    filler.socket.socket.close();
    fromFriend.socket.socket.close();
  });
});

describe('chat abuse: errors after login are sealed', () => {
  it('answers an unknown action and a frame that is not JSON with sealed errors', async () => {
    const alice = await identity();
    const client = await online(alice);
    client.socket.send('{"action":"nope"}');
    expect(await client.nextSession()).toEqual({ action: 'error', payload: { code: 'unknown_action' } });
    client.socket.send('not json at all');
    expect(await client.nextSession()).toEqual({ action: 'error', payload: { code: 'bad_request' } });
    client.socket.socket.close();
  });

  it('answers them in plaintext before login (there is no session key yet)', async () => {
    const client = await RawClient.open(runner);
    client.socket.send('{"action":"nope"}');
    expect(await client.json()).toEqual({ action: 'error', code: 'unknown_action' });
    client.socket.socket.close();
  });
});
