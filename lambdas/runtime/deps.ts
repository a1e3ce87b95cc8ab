/**
 * Dependencies of every handler, built once per container (or once per local runner) from a
 * RuntimeConfig and the AWS clients. Adapters are created on first use, so a function only touches
 * the tables its manifest entry names; asking for any other one fails loudly.
 */

import type { TableName } from '../../contract/schema.ts';
import { type KeyPair, keyPairFromSecret } from '../../protocol/crypto.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { s3BackupStore } from '../adapters/backups.ts';
import { awsCodeSender } from '../adapters/codes.ts';
import { dynamoConnectionStore, dynamoSessionStore } from '../adapters/connections.ts';
import { dynamoEphemeralStore } from '../adapters/ephemeral.ts';
import { dynamoIdentityStore } from '../adapters/identities.ts';
import { dynamoMailboxPurger, dynamoMailboxStore } from '../adapters/mailbox.ts';
import { connectionsPusher } from '../adapters/push.ts';
import { readBasicAuthSecret, readServerKeySecret } from '../adapters/secrets.ts';
import { type Chat, createChat, type Pusher, type SessionStore } from '../domain/chat.ts';
import { type Clock, epochSeconds, type Random, systemClock, systemRandom } from '../domain/clock.ts';
import type { ConnectionStore } from '../domain/connections.ts';
import { type CodeSender, createDirectory, type Directory } from '../domain/directory.ts';
import { type BackupStore, basicAuthDigest } from '../domain/safe.ts';
import type { AwsClients } from './clients.ts';
import { ConfigError, ENV, type RuntimeConfig } from './env.ts';
import { createLogger, type Logger } from './log.ts';

export interface Deps {
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly connections: ConnectionStore;
  readonly backups: BackupStore;
  readonly directory: Directory;
  readonly chat: Chat;
  /**
   * The digest Safe requests' Basic credentials must match, or undefined when the Safe is open.
   * A Secrets Manager secret is read once and cached; a failed read is retried on the next call.
   */
  safeAuth(): Promise<Uint8Array | undefined>;
}

export interface DepsOverrides {
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
  /**
   * How verification codes reach their address (default: SES/SNS as `config.verificationCodes`
   * says; without it off, so linking answers not_supported).
   */
  readonly codes?: CodeSender;
}

/** No code delivery configured: the directory refuses to link addresses. */
export const codesOff: CodeSender = {
  enabled: false,
  send: async () => {
    throw new Error('code delivery is off');
  },
};

function tableName(config: RuntimeConfig, table: TableName): string {
  const name = config.tables[table];
  if (!name) throw new ConfigError(ENV.tables[table], 'is not configured for this function');
  return name;
}

function safeAuthSource(config: RuntimeConfig, clients: AwsClients): () => Promise<Uint8Array | undefined> {
  const auth = config.safe.basicAuth;
  if (!auth) return async () => undefined;
  if (auth.kind === 'digest') return async () => auth.digest;
  let pending: Promise<Uint8Array> | undefined;
  return () => {
    pending ??= readBasicAuthSecret(clients.secrets, auth.secretArn)
      .then(basicAuthDigest)
      .catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
    return pending;
  };
}

/** The server's long-term key pair, from config or (once, cached) from Secrets Manager. */
function serverKeySource(config: RuntimeConfig, clients: AwsClients): () => Promise<KeyPair> {
  const source = config.serverKey;
  if (!source) {
    return () =>
      Promise.reject(new ConfigError(ENV.serverKeySecretArn, 'is not configured for this function'));
  }
  if (source.kind === 'key') {
    const pair = keyPairFromSecret(source.secretKey);
    return async () => pair;
  }
  let pending: Promise<KeyPair> | undefined;
  return () => {
    pending ??= readServerKeySecret(clients.secrets, source.secretArn)
      .then(keyPairFromSecret)
      .catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
    return pending;
  };
}

/** Closes every live session of an identity and forgets its records. */
async function closeSessions(
  store: SessionStore,
  pusher: Pusher,
  identity: IdentityId,
  clock: Clock,
): Promise<void> {
  for (const live of await store.liveSessions(identity, epochSeconds(clock.now()))) {
    await pusher.disconnect(live.connectionId);
    await store.remove(live.connectionId);
  }
}

export function buildDeps(config: RuntimeConfig, clients: AwsClients, overrides: DepsOverrides = {}): Deps {
  let connections: ConnectionStore | undefined;
  let chat: Chat | undefined;
  let directory: Directory | undefined;
  let backups: BackupStore | undefined;
  const safeAuth = safeAuthSource(config, clients);
  // Only functions that push or close connections have a management endpoint; others never call it.
  const management = () => {
    if (!config.managementEndpoint)
      throw new ConfigError(ENV.managementEndpoint, 'is not configured for this function');
    return connectionsPusher(clients.management(config.managementEndpoint));
  };
  const pusher: Pusher = {
    push: (connectionId, frame) => management().push(connectionId, frame),
    disconnect: (connectionId) => management().disconnect(connectionId),
  };
  const sessions = () => dynamoSessionStore(clients.dynamo, tableName(config, 'connections'));
  return {
    config,
    clock: overrides.clock ?? systemClock,
    random: overrides.random ?? systemRandom,
    log: overrides.log ?? createLogger(),
    get connections() {
      connections ??= dynamoConnectionStore(clients.dynamo, tableName(config, 'connections'));
      return connections;
    },
    get chat() {
      const clock = overrides.clock ?? systemClock;
      chat ??= createChat({
        sessions: sessions(),
        mailbox: dynamoMailboxStore(clients.dynamo, tableName(config, 'mailbox'), config.tables.ephemeral),
        pusher,
        identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
        serverKey: serverKeySource(config, clients),
        clock,
        random: overrides.random ?? systemRandom,
        messageTtlDays: config.messageTtlDays,
      });
      return chat;
    },
    get directory() {
      const clock = overrides.clock ?? systemClock;
      directory ??= createDirectory({
        identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
        ephemeral: dynamoEphemeralStore(clients.dynamo, tableName(config, 'ephemeral'), () =>
          epochSeconds(clock.now()),
        ),
        mailbox: dynamoMailboxPurger(clients.dynamo, tableName(config, 'mailbox')),
        sessions: { closeAll: (identity) => closeSessions(sessions(), pusher, identity, clock) },
        // Locally the runner passes its printing sender; on AWS, SES/SNS as configured, else off.
        codes:
          overrides.codes ??
          (config.verificationCodes ? awsCodeSender(config.verificationCodes, clients) : codesOff),
        clock,
        random: overrides.random ?? systemRandom,
        registration: config.registrationPolicy,
      });
      return directory;
    },
    get backups() {
      if (!config.safeBucket) throw new ConfigError(ENV.safeBucket, 'is not configured for this function');
      backups ??= s3BackupStore(clients.s3, config.safeBucket);
      return backups;
    },
    safeAuth,
  };
}
