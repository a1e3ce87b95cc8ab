import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryClient } from '../../client/directory/client.ts';
import { CONNECTIONS, MAILBOX } from '../../contract/schema.ts';
import type { AwsClients } from '../../lambdas/runtime/clients.ts';
import type { Runner } from '../../local/runner.ts';
import { CLOSE } from '../../local/ws-api.ts';
import { b64, clientFrameNonce, FLAGS } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';
import {
  mailboxItems,
  newSession,
  RawClient,
  registerIdentity,
  type TestIdentity,
  toHex,
} from '../support/chat.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

let harness: TestRunner;
let runner: Runner;
let clients: AwsClients;
let logLines: string[];
const identities: TestIdentity[] = [];
/** Every message id (base64) a test sent or a session received, for the log scan. */
const messageIds = new Set<string>();

/** newSession, remembering every message id the session receives. */
function openSession(who: TestIdentity) {
  const opened = newSession(runner, who);
  const onMessage = opened.session.onMessage;
  opened.session.onMessage = (message) => {
    messageIds.add(b64(message.id));
    return onMessage?.(message);
  };
  return opened;
}

async function identity(): Promise<TestIdentity> {
  const who = await registerIdentity(runner);
  identities.push(who);
  return who;
}

function mailboxOf(who: TestIdentity) {
  return mailboxItems(clients.dynamo, runner.tables.mailbox, who);
}

beforeAll(async () => {
  harness = await startTestRunner();
  ({ runner, clients, logLines } = harness);
});

afterAll(() => harness?.stop());

describe('chat: delivery', () => {
  it('delivers online by push and deletes the message once the recipient acks it', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const a = openSession(alice);
    const b = openSession(bob);
    await a.session.connect();
    await b.session.connect();
    const result = await a.session.send(bob.id, new TextEncoder().encode('hello bob'));
    expect(result.results).toEqual([{ identity: bob.id, status: 'queued' }]);
    await eventually(() => b.received.length === 1);
    expect(b.received[0]).toMatchObject({ sender: alice.id, text: 'hello bob' });
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    await a.session.close();
    await b.session.close();
  });

  it('queues for an offline recipient and delivers the backlog at login, then the queue is empty', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const a = openSession(alice);
    await a.session.connect();
    for (let i = 0; i < 3; i++) await a.session.send(bob.id, new TextEncoder().encode(`offline ${i}`));
    const waiting = await mailboxOf(bob);
    expect(waiting).toHaveLength(3);
    // Nobody to push to: each copy is in the arrival index at once.
    expect(waiting.every((item) => typeof item[MAILBOX.attributes.seq] === 'string')).toBe(true);

    const b = openSession(bob);
    let emptied = false;
    b.session.onQueueEmpty = () => {
      emptied = true;
    };
    await b.session.connect();
    expect(emptied).toBe(true);
    expect(b.received.map((m) => m.text)).toEqual(['offline 0', 'offline 1', 'offline 2']);
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    await a.session.close();
    await b.session.close();
  });

  it('pages a long backlog and delivers every message exactly once', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const a = openSession(alice);
    await a.session.connect();
    const count = LIMITS.pullPageMessages + 15;
    for (let i = 0; i < count; i++) await a.session.send(bob.id, new TextEncoder().encode(`m${i}`));
    const b = openSession(bob);
    await b.session.connect();
    expect(b.received.map((m) => m.text)).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
    await a.session.close();
    await b.session.close();
  });

  it('keeps a message until acked: a recipient that drops before acking gets it again', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const sender = await RawClient.open(runner);
    await sender.login(alice);
    const receiver = await RawClient.open(runner);
    await receiver.login(bob);
    sender.sendSession('send', RawClient.sendPayload(alice, [bob], 'not acked'));
    expect((await sender.nextSession()).action).toBe('sendAck');
    const pushed = await receiver.nextSession();
    expect(pushed.action).toBe('message');
    receiver.socket.socket.close();
    await receiver.socket.closed;
    const stored = await mailboxOf(bob);
    expect(stored).toHaveLength(1);
    // Pushed to a live session: kept out of the arrival index (no index write), still delivered.
    expect(stored[0]?.[MAILBOX.attributes.seq]).toBeUndefined();

    const b = openSession(bob);
    await b.session.connect();
    expect(b.received.map((m) => m.text)).toEqual(['not acked']);
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    await b.session.close();
    sender.socket.socket.close();
  });

  it('deletes messages acked inside a send frame, also when that send is refused', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const sender = await RawClient.open(runner);
    await sender.login(alice);
    const receiver = await RawClient.open(runner);
    await receiver.login(bob);
    const refs: { sender: string; id: string }[] = [];
    for (const text of ['first', 'second']) {
      const payload = RawClient.sendPayload(alice, [bob], text);
      refs.push({ sender: alice.id, id: payload.id });
      sender.sendSession('send', payload);
      expect((await sender.nextSession()).action).toBe('sendAck');
      expect((await receiver.nextSession()).action).toBe('message');
    }
    expect(await mailboxOf(bob)).toHaveLength(2);
    // Bob's reply carries the ack of the first; his send to an unknown identity, the second.
    receiver.sendSession('send', { ...RawClient.sendPayload(bob, [alice], 'reply'), ack: [refs[0]] });
    expect((await receiver.nextSession()).action).toBe('sendAck');
    expect((await sender.nextSession()).action).toBe('message');
    expect((await mailboxOf(bob)).map((item) => item[MAILBOX.attributes.messageId])).toEqual([
      new Uint8Array(Buffer.from(refs[1]!.id, 'base64')),
    ]);
    const nobody = { id: 'ZZZZ9999', keys: bob.keys };
    receiver.sendSession('send', { ...RawClient.sendPayload(bob, [nobody], 'lost'), ack: [refs[1]] });
    const refused = await receiver.nextSession();
    expect(refused).toMatchObject({ action: 'sendError', payload: { code: 'unknown_recipient' } });
    expect(await mailboxOf(bob)).toEqual([]);
    sender.socket.socket.close();
    receiver.socket.socket.close();
  });

  it('lets the SDK ack on its next send instead of in an ack frame of its own', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const a = openSession(alice);
    // Bob's batch would wait 10 s for more acks: his reply takes the ack along first.
    const b = newSession(runner, bob, { ackDelayMs: 10_000 });
    await a.session.connect();
    await b.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('ping'));
    await eventually(() => b.received.length === 1);
    expect(await mailboxOf(bob)).toHaveLength(1);
    const ackFrames = () => logLines.filter((line) => line.includes('"route":"ack"')).length;
    const before = ackFrames();
    await b.session.send(alice.id, new TextEncoder().encode('pong'));
    expect(await mailboxOf(bob)).toEqual([]);
    expect(ackFrames()).toBe(before);
    await a.session.close();
    await b.session.close();
  });

  it('stores a retried send (same sender and message id) once', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const sender = await RawClient.open(runner);
    await sender.login(alice);
    const id = randomBytes(8);
    messageIds.add(b64(id));
    const payload = RawClient.sendPayload(alice, [bob], 'once', id);
    sender.sendSession('send', payload);
    sender.sendSession('send', payload);
    const acks = [await sender.nextSession(), await sender.nextSession()];
    expect(acks.map((a) => [a.action, a.payload.id])).toEqual([
      ['sendAck', b64(id)],
      ['sendAck', b64(id)],
    ]);
    expect(await mailboxOf(bob)).toHaveLength(1);
    sender.socket.socket.close();
  });

  it('fans out one send to several recipients, one box each', async () => {
    const [alice, bob, carol] = [await identity(), await identity(), await identity()];
    const a = openSession(alice);
    await a.session.connect();
    const result = await a.session.send([bob.id, carol.id], new TextEncoder().encode('group hi'));
    expect(result.results.map((r) => r.status)).toEqual(['queued', 'queued']);
    for (const who of [bob, carol]) {
      const s = openSession(who);
      await s.session.connect();
      expect(s.received.map((m) => m.text)).toEqual(['group hi']);
      await s.session.close();
    }
    await a.session.close();
  });

  it('pushes to every live connection of a recipient; an ack from one removes it for all', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const first = openSession(bob);
    const second = openSession(bob);
    await first.session.connect();
    await second.session.connect();
    const a = openSession(alice);
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('to both'));
    await eventually(() => first.received.length === 1 && second.received.length === 1);
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    for (const s of [first, second, a]) await s.session.close();
  });

  it('drops a no-queue message for an offline recipient and stores nothing', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const a = openSession(alice);
    await a.session.connect();
    const result = await a.session.send(bob.id, new TextEncoder().encode('typing'), FLAGS.noQueue);
    expect(result.results).toEqual([{ identity: bob.id, status: 'dropped' }]);
    expect(await mailboxOf(bob)).toHaveLength(0);
    await a.session.close();
  });

  it('never serves an expired message, even before TTL deletion runs', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const a = openSession(alice);
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('expired'));
    await a.session.send(bob.id, new TextEncoder().encode('fresh'));
    const [first] = await mailboxOf(bob);
    const expired = (await mailboxOf(bob)).find((item) => item.key === first!.key)!;
    await clients.dynamo.send(
      new UpdateCommand({
        TableName: runner.tables.mailbox,
        Key: { recipient: bob.id, key: expired.key },
        UpdateExpression: 'SET #e = :past',
        ExpressionAttributeNames: { '#e': MAILBOX.attributes.expiresAt },
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    const b = openSession(bob);
    await b.session.connect();
    expect(b.received.map((m) => m.text)).toHaveLength(1);
    expect((await mailboxOf(bob)).map((item) => item.key)).toContain(expired.key);
    await a.session.close();
    await b.session.close();
  });

  it('forgets a stale connection of the recipient on 410, never the sender’s', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const stale = 'c3RhbGVjb25uZWN0aW9u';
    await clients.dynamo.send(
      new PutCommand({
        TableName: runner.tables.connections,
        Item: {
          [CONNECTIONS.attributes.connectionId]: stale,
          [CONNECTIONS.attributes.connectedAt]: Date.now(),
          [CONNECTIONS.attributes.expiresAt]: Math.floor(Date.now() / 1000) + 3600,
          [CONNECTIONS.attributes.state]: 'ready',
          [CONNECTIONS.attributes.identity]: bob.id,
          [CONNECTIONS.attributes.sessionKey]: randomBytes(32),
        },
      }),
    );
    // Listed on Bob's owner record, where sends look for the sessions to push to.
    const owner = { [MAILBOX.attributes.recipient]: bob.id, [MAILBOX.attributes.key]: '#owner' };
    await clients.dynamo.send(
      new PutCommand({
        TableName: runner.tables.mailbox,
        Item: {
          ...owner,
          [MAILBOX.attributes.active]: true,
          [MAILBOX.attributes.sessions]: {
            [stale]: { k: randomBytes(32), e: Math.floor(Date.now() / 1000) + 3600 },
          },
          [MAILBOX.attributes.count]: 0,
          [MAILBOX.attributes.bytes]: 0,
        },
      }),
    );
    const a = openSession(alice);
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('to nobody live'));
    const records = await clients.dynamo.send(new ScanCommand({ TableName: runner.tables.connections }));
    const ids = (records.Items ?? []).map((item) => item[CONNECTIONS.attributes.connectionId]);
    expect(ids).not.toContain(stale);
    const ownerRecord = await clients.dynamo.send(
      new GetCommand({ TableName: runner.tables.mailbox, Key: owner, ConsistentRead: true }),
    );
    expect(ownerRecord.Item?.[MAILBOX.attributes.sessions]).toEqual({});
    expect((records.Items ?? []).some((item) => item[CONNECTIONS.attributes.identity] === alice.id)).toBe(
      true,
    );
    // No push reached Bob: the copy waits in the arrival index like any offline one.
    const stored = await mailboxOf(bob);
    expect(stored).toHaveLength(1);
    expect(typeof stored[0]?.[MAILBOX.attributes.seq]).toBe('string');
    await a.session.close();
  });

  it('delivers the waiting backlog in arrival order, then copies pushed but never acked', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const sender = await RawClient.open(runner);
    await sender.login(alice);
    const receiver = await RawClient.open(runner);
    await receiver.login(bob);
    for (const text of ['pushed 0', 'pushed 1']) {
      sender.sendSession('send', RawClient.sendPayload(alice, [bob], text));
      expect((await sender.nextSession()).action).toBe('sendAck');
      expect((await receiver.nextSession()).action).toBe('message');
    }
    receiver.socket.socket.close();
    await receiver.socket.closed;
    await eventually(async () => {
      const owner = await clients.dynamo.send(
        new GetCommand({
          TableName: runner.tables.mailbox,
          Key: { [MAILBOX.attributes.recipient]: bob.id, [MAILBOX.attributes.key]: '#owner' },
          ConsistentRead: true,
        }),
      );
      return Object.keys(owner.Item?.[MAILBOX.attributes.sessions] ?? {}).length === 0;
    });
    for (const text of ['waiting 0', 'waiting 1']) {
      sender.sendSession('send', RawClient.sendPayload(alice, [bob], text));
      expect((await sender.nextSession()).action).toBe('sendAck');
    }
    const b = openSession(bob);
    await b.session.connect();
    expect(b.received.map((m) => m.text)).toEqual(['waiting 0', 'waiting 1', 'pushed 0', 'pushed 1']);
    await eventually(async () => (await mailboxOf(bob)).length === 0);
    await b.session.close();
    sender.socket.socket.close();
  });

  it('refuses a send to an unknown recipient and stores nothing', async () => {
    const alice = await identity();
    const ghost = { id: 'ZZZZZZZZ', keys: (await identity()).keys };
    const a = openSession(alice);
    await a.session.connect();
    const sender = await RawClient.open(runner);
    await sender.login(alice);
    sender.sendSession('send', RawClient.sendPayload(alice, [ghost], 'hi'));
    const reply = await sender.nextSession();
    expect(reply).toMatchObject({ action: 'sendError', payload: { code: 'unknown_recipient' } });
    expect(await mailboxOf(ghost)).toHaveLength(0);
    await a.session.close();
    sender.socket.socket.close();
  });
});

describe('chat: refused', () => {
  it('refuses a login as another identity (vouch made with the wrong key)', async () => {
    const [alice, mallory] = [await identity(), await identity()];
    const client = await RawClient.open(runner);
    expect(await client.login(alice, mallory.keys.secretKey)).toEqual({
      action: 'error',
      code: 'login_failed',
    });
    // The connection can't try again: even a new hello is refused.
    expect((await client.hello()).reply).toEqual({ action: 'error', code: 'not_logged_in' });
    client.socket.socket.close();
  });

  it('refuses a login frame replayed on another connection', async () => {
    const alice = await identity();
    const first = await RawClient.open(runner);
    const step = await first.hello();
    const captured = first.loginFrame(step, alice.id, alice.keys.secretKey);
    const second = await RawClient.open(runner);
    await second.hello();
    second.socket.send(captured);
    expect(await second.json()).toEqual({ action: 'error', code: 'login_failed' });
    first.socket.socket.close();
    second.socket.socket.close();
  });

  it('answers session frames before login with not_logged_in', async () => {
    const client = await RawClient.open(runner);
    const nonce = clientFrameNonce(1, randomBytes(16));
    client.socket.send(JSON.stringify({ action: 'pull', nonce: b64(nonce), box: b64(randomBytes(40)) }));
    expect(await client.json()).toEqual({ action: 'error', code: 'not_logged_in' });
    client.socket.socket.close();
  });

  it('acks only in one’s own mailbox: acking another’s message changes nothing', async () => {
    const [alice, bob, mallory] = [await identity(), await identity(), await identity()];
    const a = openSession(alice);
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('for bob only'));
    const [item] = await mailboxOf(bob);
    const thief = await RawClient.open(runner);
    await thief.login(mallory);
    thief.sendSession('ack', { messages: [{ sender: alice.id, id: b64(item!.messageId) }], reply: true });
    expect(await thief.nextSession()).toEqual({ action: 'acked', payload: {} });
    thief.sendSession('pull', {});
    expect(await thief.nextSession()).toEqual({ action: 'queue', payload: { messages: [], more: false } });
    expect(await mailboxOf(bob)).toHaveLength(1);
    await a.session.close();
    thief.socket.socket.close();
  });

  it('takes the sender from the session: a claimed sender is malformed', async () => {
    const [alice, bob, carol] = [await identity(), await identity(), await identity()];
    const client = await RawClient.open(runner);
    await client.login(alice);
    client.sendSession('send', { ...RawClient.sendPayload(carol, [bob], 'forged'), sender: carol.id });
    expect(await client.nextSession()).toEqual({ action: 'error', payload: { code: 'bad_request' } });
    expect(await mailboxOf(bob)).toHaveLength(0);
    client.socket.socket.close();
  });

  it('refuses an oversize box and a malformed frame without storing anything', async () => {
    const [alice, bob] = [await identity(), await identity()];
    const client = await RawClient.open(runner);
    await client.login(alice);
    const payload = RawClient.sendPayload(alice, [bob], 'x');
    payload.to[0]!.box = b64(randomBytes(LIMITS.maxBoxBytes + 1)).slice(0, 1000);
    client.sendSession('send', { ...payload, flags: 0x400 });
    expect(await client.nextSession()).toEqual({ action: 'error', payload: { code: 'bad_request' } });
    // Errors after login are sealed with the session key, like every other session frame.
    client.socket.send(JSON.stringify({ action: 'send', nonce: 'short', box: 'AAAA' }));
    expect(await client.nextSession()).toEqual({ action: 'error', payload: { code: 'bad_request' } });
    expect(await mailboxOf(bob)).toHaveLength(0);
    client.socket.socket.close();
  });

  it('closes a connection that sends a frame over 32 KB', async () => {
    const alice = await identity();
    const client = await RawClient.open(runner);
    await client.login(alice);
    client.socket.send(`{"action":"send","nonce":"${'A'.repeat(LIMITS.wsFrameBytes)}"}`);
    expect(await client.socket.closed).toBe(CLOSE.tooBig);
  });
});

describe('chat: revocation', () => {
  it('cuts a revoked identity off: its live session closes and it cannot log in again', async () => {
    const alice = await identity();
    const directory = new DirectoryClient({ server: runner.httpUrl });
    await directory
      .owner(alice.id as never, alice.keys.secretKey)
      .setRevocationPassword('correct horse battery');
    const client = await RawClient.open(runner);
    expect((await client.login(alice)).action).toBe('loginAck');
    await directory.revoke(alice.id, 'correct horse battery');
    expect(await client.socket.closed).toBe(CLOSE.normal);
    const again = await RawClient.open(runner);
    expect(await again.login(alice)).toEqual({ action: 'error', code: 'login_failed' });
    again.socket.socket.close();
  });
});

describe('chat: metadata', () => {
  it('logs no identity, public key, message id or connection id of anything the run used', async () => {
    // Every connection the gateway ever handed out (closed ones too), not just the few still in
    // the connections table now, plus the stale one a test wrote straight into the table.
    const connectionIds = [...harness.connectionIds, 'c3RhbGVjb25uZWN0aW9u'];
    const connections = await clients.dynamo.send(new ScanCommand({ TableName: runner.tables.connections }));
    const stillLive = (connections.Items ?? []).map((item) =>
      String(item[CONNECTIONS.attributes.connectionId]),
    );
    for (const id of stillLive) expect(connectionIds).toContain(id);
    expect(harness.connectionIds.length).toBeGreaterThan(stillLive.length + 30);
    expect(identities.length).toBeGreaterThan(30);
    expect(messageIds.size).toBeGreaterThan(LIMITS.pullPageMessages);

    const needles = [
      ...identities.flatMap((who) => [who.id, toHex(who.keys.publicKey), b64(who.keys.publicKey)]),
      ...connectionIds,
      ...messageIds,
    ];
    expect(logLines.length).toBeGreaterThan(50);
    const leaks = logLines.flatMap((line) =>
      needles.filter((needle) => line.includes(needle)).map((needle) => `${needle} in ${line}`),
    );
    expect(leaks).toEqual([]);
  });
});
