import { DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatError } from '../../client/chat/session.ts';
import { CONNECTIONS, MAILBOX } from '../../contract/schema.ts';
import type { AwsClients } from '../../lambdas/runtime/clients.ts';
import type { Runner } from '../../local/runner.ts';
import { maxSendBodyBytes } from '../../protocol/chat.ts';
import { mailboxItems, newSession, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

const IDLE_MS = 1500;
let harness: TestRunner;
let runner: Runner;
let clients: AwsClients;

async function liveConnections(who: TestIdentity): Promise<string[]> {
  const scan = await clients.dynamo.send(new ScanCommand({ TableName: runner.tables.connections }));
  return (scan.Items ?? [])
    .filter((item) => item[CONNECTIONS.attributes.identity] === who.id)
    .map((item) => String(item[CONNECTIONS.attributes.connectionId]));
}

beforeAll(async () => {
  harness = await startTestRunner({ ws: { idleTimeoutMs: IDLE_MS } });
  ({ runner, clients } = harness);
});

afterAll(() => harness?.stop());

describe('chat session (SDK)', () => {
  it('keeps an idle session open with keep-alives past the idle timeout', async () => {
    const alice = await registerIdentity(runner);
    const a = newSession(runner, alice, { keepAliveMs: IDLE_MS / 3 });
    let drops = 0;
    a.session.onDisconnect = () => {
      drops++;
    };
    await a.session.connect();
    const [connection] = await liveConnections(alice);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2.5));
    expect(drops).toBe(0);
    expect(await liveConnections(alice)).toEqual([connection]);
    await a.session.close();
  });

  it('reconnects after the server drops the connection and receives what was queued meanwhile', async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    const b = newSession(runner, bob, { reconnect: true, keepAliveMs: IDLE_MS / 3 });
    await b.session.connect();
    const [first] = await liveConnections(bob);
    let dropped = false;
    b.session.onDisconnect = () => {
      dropped = true;
    };
    await clients
      .management(harness.managementEndpoint)
      .send(new DeleteConnectionCommand({ ConnectionId: first }));
    await eventually(() => dropped);

    const a = newSession(runner, alice);
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('while you were away'));
    await eventually(() => b.received.some((m) => m.text === 'while you were away'));
    const now = await liveConnections(bob);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    await a.session.close();
    await b.session.close();
  });

  it('re-sends an unacked send after reconnecting, stored once', async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    const a = newSession(runner, alice, { reconnect: true, keepAliveMs: IDLE_MS / 3 });
    await a.session.connect();
    const [connection] = await liveConnections(alice);
    // The send goes out, then the connection is cut before (or while) its ack comes back.
    const sent = a.session.send(bob.id, new TextEncoder().encode('exactly once'));
    await clients
      .management(harness.managementEndpoint)
      .send(new DeleteConnectionCommand({ ConnectionId: connection }));
    const result = await sent;
    expect(result.results).toEqual([{ identity: bob.id, status: 'queued' }]);
    const mailbox = await clients.dynamo.send(
      new QueryCommand({
        TableName: runner.tables.mailbox,
        KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
        ExpressionAttributeNames: { '#r': MAILBOX.attributes.recipient, '#k': MAILBOX.attributes.key },
        ExpressionAttributeValues: { ':r': bob.id, ':m': 'm#' },
      }),
    );
    expect(mailbox.Items).toHaveLength(1);
    await a.session.close();
  });

  it('closes only after the server answered its last acks, so nothing comes again at the next login', async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    // An ack delay far longer than the test: at 20 ms a busy machine let the ack go before close().
    const b = newSession(runner, bob, { ackDelayMs: 600_000 });
    await b.session.connect();
    const a = newSession(runner, alice);
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('read, then closed'));
    await a.session.close();
    await eventually(() => b.received.length === 1);
    // Closed at once: the ack is still queued in the SDK (ackDelayMs) when close() is called.
    const acks = () => harness.logLines.filter((line) => JSON.parse(line).route === 'ack');
    const before = acks().length;
    await b.session.close();
    // By the time close() returns, the server has handled the ack (its log line is written before
    // the answer goes out) and the message is gone.
    expect(
      acks()
        .slice(before)
        .map((line) => JSON.parse(line).outcome),
    ).toEqual(['ok']);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, bob)).toEqual([]);
    const again = newSession(runner, bob);
    await again.session.connect();
    expect(again.received).toEqual([]);
    await again.session.close();
  });

  it('refuses a send too large for one frame before sending it, never retries it, and delivers the largest that fits', async () => {
    const [alice, bob, carol] = [
      await registerIdentity(runner),
      await registerIdentity(runner),
      await registerIdentity(runner),
    ];
    const a = newSession(runner, alice, { reconnect: true, keepAliveMs: IDLE_MS / 3 });
    let drops = 0;
    a.session.onDisconnect = () => {
      drops++;
    };
    await a.session.connect();
    const max = maxSendBodyBytes(1);
    const refusals = [
      a.session.send(bob.id, new Uint8Array(max + 1)),
      a.session.send(bob.id, new Uint8Array(60_000)),
      a.session.send([bob.id, carol.id], new Uint8Array(maxSendBodyBytes(2) + 1)),
    ];
    for (const refused of refusals) {
      const error = await refused.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ChatError);
      expect((error as ChatError).code).toBe('too_large');
      expect((error as ChatError).message).not.toContain(bob.id);
    }
    // Nothing went out: the gateway did not close the connection (1009), and nothing is re-sent.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(drops).toBe(0);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, bob)).toEqual([]);

    // The largest body that fits passes the gateway's 32 KB frame check and arrives whole.
    const result = await a.session.send(bob.id, new Uint8Array(max).fill(0x41));
    expect(result.results).toEqual([{ identity: bob.id, status: 'queued' }]);
    expect(drops).toBe(0);
    const b = newSession(runner, bob);
    await b.session.connect();
    expect(b.received.map((m) => m.text)).toEqual(['A'.repeat(max)]);
    await b.session.close();
    await a.session.close();
  });

  it('acks only what the application accepted; a send-only session takes no delivery at all', async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    const b = newSession(runner, bob);
    await b.session.connect();
    await b.session.send(alice.id, new TextEncoder().encode('refused once'));
    await b.session.send(alice.id, new TextEncoder().encode('handler throws'));

    // A session that only sends: it neither pulls the backlog nor acks a push that arrives meanwhile.
    const sendOnly = newSession(runner, alice, { receive: false }).session;
    let shown = 0;
    sendOnly.onMessage = () => {
      shown++;
    };
    await sendOnly.connect();
    await b.session.send(alice.id, new TextEncoder().encode('pushed to a sender'));
    await sendOnly.send(bob.id, new TextEncoder().encode('from a send-only session'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await sendOnly.close();
    expect(shown).toBe(0);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, alice)).toHaveLength(3);

    // A receiving session whose handler refuses one message and throws on another: neither is acked.
    const a = newSession(runner, alice);
    const accepted: string[] = [];
    a.session.onMessage = (message) => {
      const text = new TextDecoder().decode(message.body);
      if (text === 'refused once') return false;
      if (text === 'handler throws') throw new Error('the app could not store it');
      accepted.push(text);
    };
    await a.session.connect();
    await a.session.close();
    expect(accepted).toEqual(['pushed to a sender']);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, alice)).toHaveLength(2);

    // They come again at the next login, and are acked once accepted.
    const again = newSession(runner, alice);
    await again.session.connect();
    await again.session.close();
    expect(again.received.map((m) => m.text).sort()).toEqual(['handler throws', 'refused once']);
    expect(await mailboxItems(clients.dynamo, runner.tables.mailbox, alice)).toEqual([]);
    await b.session.close();
  });
});
