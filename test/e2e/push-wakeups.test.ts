/**
 * Push wake-ups through the local runner: the SDK registers push targets over its session, a
 * message to an offline recipient reaches DynamoDB Local's stream, the runner's stream reader
 * invokes the `wakeups` handler, and the stand-in providers (test/support/push-services.ts) get a
 * wake-up they verify (VAPID, RFC 8291 decryption, FCM's OAuth grant, APNs over HTTP/2) and that
 * carries nothing about the message or its sender.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatSession } from '../../client/chat/session.ts';
import { EXIT } from '../../client/cli/command.ts';
import { DirectoryClient } from '../../client/directory/client.ts';
import { saveIdentityFile } from '../../client/keyfile.ts';
import { addPushTarget, listPushTargets, removePushTarget } from '../../client/push/client.ts';
import { MAILBOX } from '../../contract/schema.ts';
import { FLAGS } from '../../protocol/chat.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { WAKE_PAYLOAD } from '../../protocol/push-targets.ts';
import { newSession, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { startProcess } from '../support/process.ts';
import {
  pushItem,
  type Subscriber,
  startApnsStandIn,
  startFcmStandIn,
  startWebPushService,
} from '../support/push-services.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

const DEBOUNCE_SECONDS = 3;
const WAIT_MS = 30_000;

let harness: TestRunner;
let webPush: Awaited<ReturnType<typeof startWebPushService>>;
let fcm: Awaited<ReturnType<typeof startFcmStandIn>>;
let apns: Awaited<ReturnType<typeof startApnsStandIn>>;
const stdout: string[] = [];

beforeAll(async () => {
  [webPush, fcm, apns] = await Promise.all([startWebPushService(), startFcmStandIn(), startApnsStandIn()]);
  harness = await startTestRunner({
    push: {
      debounceSeconds: DEBOUNCE_SECONDS,
      vapidSubject: 'mailto:ops@example.org',
      fcm: fcm.account,
      apns: apns.credentials,
      providerOrigins: { fcm: fcm.origin, apns: apns.origin },
    },
  });
});
afterAll(async () => {
  await Promise.all(sessions.map((session) => session.close()));
  await harness?.stop();
  await Promise.all([webPush?.stop(), fcm?.stop(), apns?.stop()]);
});

const sessions: ChatSession[] = [];
async function online(who: TestIdentity) {
  const opened = newSession(harness.runner, who);
  sessions.push(opened.session);
  await opened.session.connect();
  return opened;
}

/** A recipient with one Web Push subscription registered, then offline. */
async function subscribedRecipient(): Promise<{ who: TestIdentity; subscriber: Subscriber }> {
  const who = await registerIdentity(harness.runner);
  const subscriber = webPush.subscribe();
  const { session } = await online(who);
  await addPushTarget(session, {
    kind: 'webpush',
    endpoint: subscriber.endpoint,
    p256dh: subscriber.p256dh,
    auth: subscriber.auth,
  });
  await session.close();
  return { who, subscriber };
}

const text = (value: string) => new TextEncoder().encode(value);

describe('push targets', () => {
  it('are registered, listed, replaced, removed and exported by their owner only', async () => {
    const who = await registerIdentity(harness.runner);
    const { session } = await online(who);
    const empty = await listPushTargets(session);
    expect(empty.targets).toEqual([]);
    expect(empty.kinds).toEqual(['webpush', 'unifiedpush', 'fcm', 'apns']);
    expect(Buffer.from(empty.vapidKey, 'base64url')).toHaveLength(65);

    const subscriber = webPush.subscribe();
    const target = {
      kind: 'webpush',
      endpoint: subscriber.endpoint,
      p256dh: subscriber.p256dh,
      auth: subscriber.auth,
    } as const;
    const once = await addPushTarget(session, target);
    const twice = await addPushTarget(session, target);
    expect(twice.targets).toEqual(once.targets);
    expect(once.targets).toEqual([
      { id: expect.stringMatching(/^[0-9a-f]{16}$/), kind: 'webpush', address: subscriber.endpoint },
    ]);
    const withToken = await addPushTarget(session, { kind: 'apns', token: 'ab'.repeat(32) });
    expect(withToken.targets).toHaveLength(2);

    const exported = (await new DirectoryClient({ server: harness.runner.httpUrl })
      .owner(who.id as never, who.keys.secretKey)
      .export()) as { pushTokens: unknown };
    expect(exported.pushTokens).toEqual(
      expect.arrayContaining([
        { id: once.targets[0]?.id, kind: 'webpush', endpoint: subscriber.endpoint },
        { id: expect.any(String), kind: 'apns', token: 'ab'.repeat(32) },
      ]),
    );

    const after = await removePushTarget(session, once.targets[0]?.id ?? '');
    expect(after.targets.map((entry) => entry.kind)).toEqual(['apns']);

    // Another identity's session sees and removes only its own.
    const other = await registerIdentity(harness.runner);
    const { session: otherSession } = await online(other);
    expect((await listPushTargets(otherSession)).targets).toEqual([]);
    await removePushTarget(otherSession, withToken.targets.find((entry) => entry.kind === 'apns')?.id ?? '');
    expect((await listPushTargets(session)).targets).toHaveLength(1);
  });

  it('refuses malformed targets and more than the bound, changing nothing', async () => {
    const who = await registerIdentity(harness.runner);
    const { session } = await online(who);
    const bad = [
      {
        kind: 'webpush',
        endpoint: 'ftp://push.example/x',
        p256dh: webPush.subscribe().p256dh,
        auth: 'AAAAAAAAAAAAAAAAAAAAAA',
      },
      {
        kind: 'webpush',
        endpoint: 'https://push.example/x',
        p256dh: 'short',
        auth: 'AAAAAAAAAAAAAAAAAAAAAA',
      },
      {
        kind: 'webpush',
        endpoint: 'http://push.example/x',
        p256dh: webPush.subscribe().p256dh,
        auth: 'AAAAAAAAAAAAAAAAAAAAAA',
      },
      // Into the server's own network, or its cloud's metadata service: never a push service.
      ...['https://10.0.0.5/x', 'https://169.254.169.254/latest/meta-data/', 'https://[fd00::1]/x'].map(
        (endpoint) => ({
          kind: 'webpush',
          endpoint,
          p256dh: webPush.subscribe().p256dh,
          auth: 'AAAAAAAAAAAAAAAAAAAAAA',
        }),
      ),
      { kind: 'fcm', token: 'has spaces' },
      { kind: 'apns', token: 'XYZ' },
      { kind: 'sms', token: 'x' },
    ];
    for (const target of bad) {
      await expect(addPushTarget(session, target as never)).rejects.toMatchObject({ code: 'bad_request' });
    }
    for (let index = 0; index < LIMITS.pushTargetsPerIdentity; index++) {
      await addPushTarget(session, { kind: 'fcm', token: `token-${index}` });
    }
    await expect(addPushTarget(session, { kind: 'fcm', token: 'one-too-many' })).rejects.toMatchObject({
      code: 'too_many_targets',
    });
    // Registering one already there again still works at the bound.
    await addPushTarget(session, { kind: 'fcm', token: 'token-0' });
    expect((await listPushTargets(session)).targets).toHaveLength(LIMITS.pushTargetsPerIdentity);
  });

  it('are registered, listed and removed with `switchyard push`', async () => {
    const who = await registerIdentity(harness.runner);
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-push-cli-'));
    try {
      const file = join(dir, 'id.json');
      await saveIdentityFile(file, { identity: who.id as never, keys: who.keys });
      const cli = async (...args: string[]) => {
        const run = startProcess(
          process.execPath,
          ['dist/switchyard.js', 'push', ...args, '--identity-file', file],
          {
            ...process.env,
            SWITCHYARD_SERVER: harness.runner.httpUrl,
            SWITCHYARD_SERVER_KEY: harness.runner.serverPublicKey,
          },
        );
        return { code: await run.exited, output: run.output() };
      };
      const subscriber = webPush.subscribe();
      const added = await cli(
        'add',
        'webpush',
        subscriber.endpoint,
        '--p256dh',
        subscriber.p256dh,
        '--auth',
        subscriber.auth,
      );
      expect(added.code, added.output).toBe(EXIT.ok);
      const id = /^([0-9a-f]{16}) {2}webpush/m.exec(added.output)?.[1];
      expect(id).toBeDefined();
      expect(added.output).toContain(subscriber.endpoint);
      expect(added.output).toMatch(/^vapid key: [A-Za-z0-9_-]{87}$/m);
      const refused = await cli('add', 'fcm', 'not a token');
      expect(refused.code).toBe(EXIT.usage);
      const removed = await cli('remove', id ?? '');
      expect(removed.code, removed.output).toBe(EXIT.ok);
      expect(removed.output).not.toContain(subscriber.endpoint);
      expect(await pushItem(harness, who.id)).toMatchObject({ [MAILBOX.attributes.targets]: {} });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are removed when the identity is deleted', async () => {
    const { who } = await subscribedRecipient();
    expect(await pushItem(harness, who.id)).toBeDefined();
    await new DirectoryClient({ server: harness.runner.httpUrl })
      .owner(who.id as never, who.keys.secretKey)
      .delete();
    expect(await pushItem(harness, who.id)).toBeUndefined();
  });
});

describe('wake-ups', () => {
  it('wake an offline recipient with a constant, content-free, VAPID-signed Web Push message', async () => {
    const sender = await registerIdentity(harness.runner);
    const { who, subscriber } = await subscribedRecipient();
    const other = await subscribedRecipient();
    const { session } = await online(sender);
    await session.send(who.id, text('a short one'));
    await session.send(
      other.who.id,
      text('a much longer message than the first one, to show no size leaks'.repeat(20)),
    );
    await eventually(
      () => webPush.to(subscriber).length === 1 && webPush.to(other.subscriber).length === 1,
      WAIT_MS,
    );
    const [first] = webPush.to(subscriber);
    const [second] = webPush.to(other.subscriber);
    for (const delivery of [first, second]) {
      expect(delivery?.problem).toBeUndefined();
      expect(delivery?.plaintext).toBe(WAKE_PAYLOAD);
      expect(delivery?.headers.topic).toBe('wake');
      // Nothing identifying anywhere in what the push service saw.
      const seen = `${JSON.stringify(delivery?.headers)}${delivery?.body.toString('latin1')}${delivery?.plaintext}`;
      for (const secret of [who.id, other.who.id, sender.id, 'short one', 'longer'])
        expect(seen).not.toContain(secret);
    }
    // The same size for every recipient and message.
    expect(first?.body.length).toBe(second?.body.length);
    expect(first?.body.length).toBe(86 + WAKE_PAYLOAD.length + 1 + 16);
  });

  it('wake a recipient at most once per debounce interval while messages wait', async () => {
    const sender = await registerIdentity(harness.runner);
    const { who, subscriber } = await subscribedRecipient();
    const { session } = await online(sender);
    await session.send(who.id, text('one'));
    await session.send(who.id, text('two'));
    await session.send(who.id, text('three'));
    await eventually(() => webPush.to(subscriber).length === 1, WAIT_MS);
    // A marker recipient woken after the burst shows the stream got past it.
    const marker = await subscribedRecipient();
    await session.send(marker.who.id, text('marker'));
    await eventually(() => webPush.to(marker.subscriber).length === 1, WAIT_MS);
    expect(webPush.to(subscriber)).toHaveLength(1);
    // After the interval, a new message wakes again.
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_SECONDS * 1000 + 200));
    await session.send(who.id, text('four'));
    await eventually(() => webPush.to(subscriber).length === 2, WAIT_MS);
  });

  it('send nothing to an online recipient, nor for a no-queue message', async () => {
    const sender = await registerIdentity(harness.runner);
    const online_ = await subscribedRecipient();
    const typing = await subscribedRecipient();
    const marker = await subscribedRecipient();
    const recipient = await online(online_.who);
    const { session } = await online(sender);
    await session.send(online_.who.id, text('you are here'));
    await eventually(() => recipient.received.length === 1, WAIT_MS);
    await session.send(typing.who.id, text('typing…'), FLAGS.noQueue);
    await session.send(marker.who.id, text('marker'));
    await eventually(() => webPush.to(marker.subscriber).length === 1, WAIT_MS);
    // Records of one batch are woken concurrently: give a wake-up for the online one time to land.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(webPush.to(online_.subscriber)).toHaveLength(0);
    expect(webPush.to(typing.subscriber)).toHaveLength(0);
  });

  it('remove a target the push service reports gone', async () => {
    const sender = await registerIdentity(harness.runner);
    const { who, subscriber } = await subscribedRecipient();
    webPush.set(subscriber, 'gone');
    const { session } = await online(sender);
    await session.send(who.id, text('anyone there?'));
    await eventually(
      async () =>
        Object.keys((await pushItem(harness, who.id))?.[MAILBOX.attributes.targets] ?? {}).length === 0,
      WAIT_MS,
    );
    expect(webPush.to(subscriber)).toHaveLength(1);
  });

  it('never hold back or lose the message when push fails or hangs', async () => {
    const sender = await registerIdentity(harness.runner);
    const failing = await subscribedRecipient();
    const hanging = await subscribedRecipient();
    webPush.set(failing.subscriber, 'fail');
    webPush.set(hanging.subscriber, 'hang');
    const { session } = await online(sender);
    await session.send(hanging.who.id, text('still here'));
    await session.send(failing.who.id, text('still here too'));
    await eventually(() => webPush.to(hanging.subscriber).length === 1, WAIT_MS);
    // The failing endpoint is tried again (a stream retry), and the messages wait all the while.
    await eventually(() => webPush.to(failing.subscriber).length >= 2, WAIT_MS);
    for (const who of [failing.who, hanging.who]) {
      const { received } = await online(who);
      await eventually(() => received.length === 1, WAIT_MS);
      expect(received[0]?.sender).toBe(sender.id);
    }
  });

  it('reach FCM with a data-only message and APNs with a background push over HTTP/2', async () => {
    const sender = await registerIdentity(harness.runner);
    const who = await registerIdentity(harness.runner);
    const gone = await registerIdentity(harness.runner);
    const apnsToken = 'c0'.repeat(32);
    const goneToken = 'd1'.repeat(32);
    apns.set(goneToken, 'gone');
    fcm.set('fcm-gone-token', 'gone');
    for (const [identity, fcmToken, apnsToken_] of [
      [who, 'fcm-device-token:abc', apnsToken],
      [gone, 'fcm-gone-token', goneToken],
    ] as const) {
      const { session } = await online(identity);
      await addPushTarget(session, { kind: 'fcm', token: fcmToken });
      await addPushTarget(session, { kind: 'apns', token: apnsToken_ });
      await session.close();
    }
    const { session } = await online(sender);
    await session.send(who.id, text('hello phone'));
    await session.send(gone.id, text('hello old phone'));
    await eventually(() => fcm.deliveries.length >= 2 && apns.deliveries.length >= 2, WAIT_MS);
    expect(fcm.grants.every((grant) => grant.problem === undefined)).toBe(true);
    const fcmFor = fcm.deliveries.find((delivery) =>
      JSON.stringify(delivery.body).includes('fcm-device-token:abc'),
    );
    expect(fcmFor?.problem).toBeUndefined();
    expect(fcmFor?.project).toBe('test-project');
    expect(fcmFor?.body).toEqual({
      message: {
        token: 'fcm-device-token:abc',
        data: { wake: '1' },
        android: { priority: 'high', collapse_key: 'wake', ttl: `${LIMITS.pushWakeTtlSeconds}s` },
      },
    });
    const apnsFor = apns.deliveries.find((delivery) => delivery.token === apnsToken);
    expect(apnsFor?.problem).toBeUndefined();
    expect(apnsFor?.body).toBe('{"aps":{"content-available":1}}');
    for (const delivery of [...fcm.deliveries, ...apns.deliveries]) {
      const seen = JSON.stringify(delivery);
      for (const secret of [who.id, gone.id, sender.id, 'hello']) expect(seen).not.toContain(secret);
    }
    // Both of the gone identity's targets are removed; the other's stay.
    await eventually(
      async () =>
        Object.keys((await pushItem(harness, gone.id))?.[MAILBOX.attributes.targets] ?? {}).length === 0,
      WAIT_MS,
    );
    expect(Object.keys((await pushItem(harness, who.id))?.[MAILBOX.attributes.targets] ?? {})).toHaveLength(
      2,
    );
  });

  it('leave no identifier in any log line', async () => {
    const lines = [...harness.logLines, ...stdout].join('\n');
    expect(harness.logLines.some((line) => line.includes('"route":"wakeups"'))).toBe(true);
    expect(harness.logLines.some((line) => line.includes('"route":"pushTargetAdd"'))).toBe(true);
    for (const delivery of webPush.deliveries) {
      expect(lines).not.toContain(delivery.path);
    }
    expect(lines).not.toContain(webPush.origin);
    expect(lines).not.toContain('fcm-device-token');
    expect(lines).not.toContain('c0c0c0c0');
    expect(lines).not.toMatch(/"[0-9A-Z]{8}"/);
  });
});
