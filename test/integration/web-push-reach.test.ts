/**
 * The Web Push sender reaches only public addresses: an endpoint a client registered is a URL of its
 * choosing, and the wake-up must not become a request into the server's own network. Against the
 * Web Push stand-in on 127.0.0.1, which plays a host inside that network unless the sender allows
 * loopback (as the local runner does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVapidKeyFile, vapidKeys, webPushSender } from '../../lambdas/adapters/wake/webpush.ts';
import { fromB64Url, type PushTarget } from '../../protocol/push-targets.ts';
import { type Subscriber, startWebPushService } from '../support/push-services.ts';

let service: Awaited<ReturnType<typeof startWebPushService>>;
beforeAll(async () => {
  service = await startWebPushService();
});
afterAll(() => service.stop());

const keys = vapidKeys(createVapidKeyFile());
const sender = (allowLoopback: boolean) =>
  webPushSender({ keys: async () => keys, now: () => Date.now(), allowLoopback, timeoutMs: 5000 });

function targetOf(subscriber: Subscriber, endpoint = subscriber.endpoint): PushTarget {
  return {
    kind: 'webpush',
    endpoint,
    p256dh: fromB64Url(subscriber.p256dh, 65),
    auth: fromB64Url(subscriber.auth, 16),
  };
}

/** The same subscription, addressed by the name `localhost` instead of the address. */
const byName = (subscriber: Subscriber) => subscriber.endpoint.replace('127.0.0.1', 'localhost');

describe('web push wake-ups', () => {
  it('reach a loopback push service where loopback is allowed, by address and by name', async () => {
    const subscriber = service.subscribe();
    await expect(sender(true).send(targetOf(subscriber))).resolves.toBe('sent');
    expect(service.to(subscriber)).toHaveLength(1);
    expect(service.to(subscriber)[0]?.plaintext).toBe('{"wake":1}');
    // The audience names the endpoint's origin, which the stand-in does not answer to: refused, but reached.
    await expect(sender(true).send(targetOf(subscriber, byName(subscriber)))).resolves.toBe('failed');
    expect(service.to(subscriber)).toHaveLength(2);
  });

  it('drop an endpoint on an address literal the server may not reach, without connecting', async () => {
    const subscriber = service.subscribe();
    await expect(sender(false).send(targetOf(subscriber))).resolves.toBe('gone');
    expect(service.to(subscriber)).toHaveLength(0);
  });

  it('fail, without connecting, for a name that resolves to no public address', async () => {
    const subscriber = service.subscribe();
    await expect(sender(false).send(targetOf(subscriber, byName(subscriber)))).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    expect(service.to(subscriber)).toHaveLength(0);
  });
});
