import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDeliveryReceipt } from '../../client/chat/content.ts';
import { type DeliveryState, Messenger } from '../../client/chat/messenger.ts';
import { FLAGS, fromB64 } from '../../protocol/chat.ts';
import { newSession, registerIdentity } from '../support/chat.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

let harness: TestRunner;
beforeAll(async () => {
  harness = await startTestRunner();
});
afterAll(() => harness?.stop());

function messenger(who: Awaited<ReturnType<typeof registerIdentity>>) {
  const { session } = newSession(harness.runner, who);
  const m = new Messenger(session, { receiptDelayMs: 10 });
  const texts: string[] = [];
  const states: { id: string; state: DeliveryState }[] = [];
  m.onText = (message) => {
    texts.push(`${message.sender}:${message.text}`);
  };
  m.onState = (_peer, id, state) => states.push({ id, state });
  return { m, session, texts, states };
}

describe('messenger (texts with delivery state, SDK)', () => {
  it('moves a message sent → acked → delivered once the recipient has it, and only then', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const a = messenger(alice);
    await a.session.connect();
    // Bob is offline: the server stores the message and acks it; nobody has confirmed delivery.
    const sent = a.m.sendText(bob.id, 'are you there?');
    await sent.acked;
    await eventually(() => a.states.length === 1);
    expect(a.states).toEqual([{ id: sent.id, state: 'acked' }]);
    expect(sent.boxBytes).toBe(sent.contentBytes + 16);
    expect(sent.textBytes).toBe(14);

    // Bob comes online: he gets the queued text and his device sends a receipt back.
    const b = messenger(bob);
    await b.session.connect();
    await eventually(() => b.texts.length === 1);
    expect(b.texts).toEqual([`${alice.id}:are you there?`]);
    await eventually(() => a.states.length === 2);
    expect(a.states[1]).toEqual({ id: sent.id, state: 'delivered' });
    // Receipts are content, not texts: Alice shows no message from Bob.
    expect(a.texts).toEqual([]);
    await Promise.all([a.session.close(), b.session.close()]);
  });

  it('sends no receipt for a message flagged "no delivery receipt"', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const [a, b] = [messenger(alice), messenger(bob)];
    await Promise.all([a.session.connect(), b.session.connect()]);
    const quiet = a.m.sendText(bob.id, 'no receipt please', FLAGS.noDeliveryReceipt);
    const loud = a.m.sendText(bob.id, 'receipt please');
    await Promise.all([quiet.acked, loud.acked]);
    await eventually(() => a.states.some((entry) => entry.id === loud.id && entry.state === 'delivered'));
    expect(b.texts).toHaveLength(2);
    expect(a.states.filter((entry) => entry.id === quiet.id).map((entry) => entry.state)).toEqual(['acked']);
    await Promise.all([a.session.close(), b.session.close()]);
  });

  it('takes a receipt only from the recipient: someone else naming the message id changes nothing', async () => {
    const [alice, bob, carol] = [
      await registerIdentity(harness.runner),
      await registerIdentity(harness.runner),
      await registerIdentity(harness.runner),
    ];
    const [a, c] = [messenger(alice), messenger(carol)];
    await Promise.all([a.session.connect(), c.session.connect()]);
    const sent = a.m.sendText(bob.id, 'for bob');
    await sent.acked;
    // Carol forges a receipt for Alice's message to Bob: it reaches Alice and changes nothing.
    const handle = a.session.onMessage;
    let arrived = 0;
    a.session.onMessage = (message) => {
      arrived++;
      return handle?.(message);
    };
    await c.session.send(alice.id, encodeDeliveryReceipt([fromB64(sent.id)]));
    await eventually(() => arrived === 1);
    expect(a.states).toEqual([{ id: sent.id, state: 'acked' }]);
    // Bob's real receipt counts.
    const b = messenger(bob);
    await b.session.connect();
    await eventually(() => a.states.length === 2);
    expect(a.states).toEqual([
      { id: sent.id, state: 'acked' },
      { id: sent.id, state: 'delivered' },
    ]);
    await Promise.all([a.session.close(), b.session.close(), c.session.close()]);
  });
});
