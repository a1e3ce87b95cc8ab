/**
 * The push functions: `wsPushTargets` (the owner's push target frames: sessions and the `#push`
 * item) and `wakeups` (the mailbox stream: owner records, the `#push` item, the providers). Both read
 * the VAPID key pair (the first also fills its secret on first use); only `wakeups` reads the FCM and
 * APNs credentials.
 */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import type { PushKind } from '../../../protocol/push-targets.ts';
import { toB64Url } from '../../../protocol/push-targets.ts';
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { readOwner } from '../../adapters/mailbox/owner.ts';
import type { MailboxTable } from '../../adapters/mailbox/table.ts';
import { dynamoPushTargetStore } from '../../adapters/push-targets.ts';
import type { SecretReader } from '../../adapters/secrets.ts';
import { apnsCredentials, apnsSender } from '../../adapters/wake/apns.ts';
import { loadCredential, loadVapidSecret } from '../../adapters/wake/credentials.ts';
import { fcmSender, fcmServiceAccount } from '../../adapters/wake/fcm.ts';
import { type VapidKeys, vapidKeys, webPushSender } from '../../adapters/wake/webpush.ts';
import type { WriteOnceSecret } from '../../adapters/write-once-secret.ts';
import { createPushTargets, createWakeups, type WakeSender } from '../../domain/wakeups.ts';
import { makeWakeupHandler } from '../../handlers/wakeups.ts';
import { makePushTargetHandler } from '../../handlers/ws-push-targets.ts';
import { ConfigError, ENV, type PushConfig, type RuntimeConfig } from '../env.ts';
import { streamStack, wsStack } from '../middlewares.ts';
import { type Base, cachedOnce, chatWith, type DynamoClients, tableName } from './shared.ts';

export interface PushClients extends DynamoClients {
  /** GetSecretValue (FCM, APNs credentials). */
  readonly secrets: SecretReader;
  /** The VAPID secret on AWS: read it, or fill it on first use. */
  readonly vapidSecret?: (secretArn: string) => WriteOnceSecret;
}

function pushConfig(config: RuntimeConfig): PushConfig {
  if (!config.push) throw new ConfigError(ENV.pushVapidSecretArn, 'is not configured for this function');
  return config.push;
}

/** The kinds this deployment sends to: Web Push and UnifiedPush always, FCM and APNs when configured. */
export function pushKinds(push: PushConfig): PushKind[] {
  return [
    'webpush',
    'unifiedpush',
    ...(push.fcm ? ['fcm' as const] : []),
    ...(push.apns ? ['apns' as const] : []),
  ];
}

function vapidSource(push: PushConfig, clients: PushClients): () => Promise<VapidKeys> {
  const source = push.vapid;
  if (source.kind === 'value') {
    const keys = vapidKeys(source.value);
    return async () => keys;
  }
  if (!clients.vapidSecret) {
    return () =>
      Promise.reject(new ConfigError(ENV.pushVapidSecretArn, 'is not configured for this function'));
  }
  const secret = clients.vapidSecret(source.secretArn);
  return cachedOnce(() => loadVapidSecret(secret));
}

export function composeWsPushTargets(config: RuntimeConfig, clients: PushClients, base: Base) {
  const push = pushConfig(config);
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
  });
  const table: MailboxTable = { dynamo: clients.dynamo, name: tableName(config, 'mailbox') };
  const kinds = pushKinds(push);
  const vapid = vapidSource(push, clients);
  return middy(
    makePushTargetHandler({
      chat,
      pushTargets: createPushTargets({ targets: dynamoPushTargetStore(table), kinds }),
      vapidKey: async () => toB64Url((await vapid()).publicKey),
      kinds,
      allowLoopback: push.allowLoopback ?? false,
      random: base.random,
      log: base.log,
    }),
  ).use(wsStack(base, LIMITS.wsMessageBytes));
}

export function composeWakeups(config: RuntimeConfig, clients: PushClients, base: Base) {
  const push = pushConfig(config);
  const table: MailboxTable = { dynamo: clients.dynamo, name: tableName(config, 'mailbox') };
  const now = () => base.clock.now();
  const webPush = webPushSender({
    keys: vapidSource(push, clients),
    now,
    allowLoopback: push.allowLoopback ?? false,
    ...(push.vapidSubject ? { subject: push.vapidSubject } : {}),
  });
  const senders: Partial<Record<PushKind, WakeSender>> = { webpush: webPush, unifiedpush: webPush };
  const { fcm, apns } = push;
  if (fcm) {
    senders.fcm = fcmSender({
      account: cachedOnce(() => loadCredential(fcm, clients.secrets, fcmServiceAccount)),
      now,
      ...(push.providerOrigins?.fcm ? { baseUrl: push.providerOrigins.fcm } : {}),
    });
  }
  if (apns) {
    senders.apns = apnsSender({
      credentials: cachedOnce(() => loadCredential(apns, clients.secrets, apnsCredentials)),
      now,
      ...(push.providerOrigins?.apns ? { origin: push.providerOrigins.apns } : {}),
    });
  }
  const wakeups = createWakeups({
    targets: dynamoPushTargetStore(table),
    owners: { owner: (identity) => readOwner(table, identity) },
    senders,
    clock: base.clock,
    debounceSeconds: push.debounceSeconds,
  });
  return middy(makeWakeupHandler({ wakeups })).use(streamStack(base, 'wakeups'));
}
