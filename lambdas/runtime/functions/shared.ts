/**
 * What the per-function compositions beside this file share. Each of them imports only the adapters
 * and SDK client types its manifest entry uses, so a function's bundle loads nothing else; the local
 * runner calls all of them (./index.ts) with its own clients. Nothing here imports an SDK package.
 */
import type { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { WsHandler } from '../../../contract/events.ts';
import type { TableName } from '../../../contract/schema.ts';
import { type KeyPair, keyPairFromSecret } from '../../../protocol/crypto.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import { awsCodeSender, type CodeTransport } from '../../adapters/codes.ts';
import { readBasicAuthSecret, readServerKeySecret, type SecretReader } from '../../adapters/secrets.ts';
import { type Chat, type ChatDeps, createChat } from '../../domain/chat.ts';
import type { Clock, Random } from '../../domain/clock.ts';
import type { CodeSender } from '../../domain/directory.ts';
import { basicAuthDigest } from '../../domain/safe.ts';
import type { ChatHandlerDeps } from '../../handlers/ws-chat.ts';
import { ConfigError, ENV, type RuntimeConfig } from '../env.ts';
import type { Logger } from '../log.ts';
import { wsStack } from '../middlewares.ts';

/** Time, randomness and the log: given by the AWS entry (system ones) or the local runner and tests. */
export interface Base {
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
}

export type DynamoClients = { readonly dynamo: DynamoDBDocumentClient };
export type ManagementClient = { readonly management: (endpoint: string) => ApiGatewayManagementApiClient };
export type SecretClients = { readonly secrets: SecretReader };

/** The physical name of a table this function's manifest entry grants it. */
export function tableName(config: RuntimeConfig, table: TableName): string {
  const name = config.tables[table];
  if (!name) throw new ConfigError(ENV.tables[table], 'is not configured for this function');
  return name;
}

/** This function's `@connections` endpoint (only functions that push or close connections have one). */
export function managementEndpoint(config: RuntimeConfig): string {
  if (!config.managementEndpoint)
    throw new ConfigError(ENV.managementEndpoint, 'is not configured for this function');
  return config.managementEndpoint;
}

/**
 * A value read once and kept for the container's life; a failed read is forgotten, so the next call
 * tries again (a secret that was briefly unreachable must not break the container for good).
 */
export function cachedOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** The server's long-term key pair, from config (local runner) or, once, from Secrets Manager. */
export function serverKeySource(
  config: RuntimeConfig,
  read: SecretReader | undefined,
): () => Promise<KeyPair> {
  const source = config.serverKey;
  if (source?.kind === 'key') {
    const pair = keyPairFromSecret(source.secretKey);
    return async () => pair;
  }
  if (!source || !read) {
    return () =>
      Promise.reject(new ConfigError(ENV.serverKeySecretArn, 'is not configured for this function'));
  }
  return cachedOnce(() => readServerKeySecret(read, source.secretArn).then(keyPairFromSecret));
}

/**
 * The digest Safe requests' Basic credentials must match, or undefined when the Safe is open. A
 * Secrets Manager secret is read once and cached; a failed read is retried on the next call.
 */
export function safeAuthSource(
  config: RuntimeConfig,
  read: SecretReader,
): () => Promise<Uint8Array | undefined> {
  const auth = config.safe.basicAuth;
  if (!auth) return async () => undefined;
  if (auth.kind === 'digest') return async () => auth.digest;
  return cachedOnce(() => readBasicAuthSecret(read, auth.secretArn).then(basicAuthDigest));
}

/**
 * A dependency this function's manifest entry does not grant: any use fails loudly, naming what is
 * missing, instead of reaching a table or API the function has no right to.
 */
export function notGranted<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => () => Promise.reject(new ConfigError(what, 'is not granted to this function')),
  });
}

/** The chat domain with the parts a chat function has; the parts it lacks fail loudly if used. */
export function chatWith(
  config: RuntimeConfig,
  base: Base,
  parts: Partial<Pick<ChatDeps, 'sessions' | 'mailbox' | 'rates' | 'pusher' | 'identities' | 'serverKey'>>,
): Chat {
  return createChat({
    sessions: parts.sessions ?? notGranted('the connections table'),
    mailbox: parts.mailbox ?? notGranted('the mailbox table'),
    rates: parts.rates ?? notGranted('the ephemeral table'),
    pusher: parts.pusher ?? notGranted('the @connections API'),
    identities: parts.identities ?? notGranted('the identities table'),
    serverKey: parts.serverKey ?? serverKeySource(config, undefined),
    clock: base.clock,
    random: base.random,
    messageTtlDays: config.messageTtlDays,
  });
}

/** A chat route's middy handler: the route's core on `chat`, in the WebSocket stack. */
export function chatRoute(base: Base, chat: Chat, make: (deps: ChatHandlerDeps) => WsHandler) {
  return middy(make({ chat, random: base.random, log: base.log })).use(wsStack(base, LIMITS.wsMessageBytes));
}

/** No code delivery configured: linking an address and vault codes answer not_supported. */
export const codesOff: CodeSender = {
  enabled: false,
  send: async () => {
    throw new Error('code delivery is off');
  },
};

/**
 * Where verification codes go: `given` (the local runner prints them), else SES and SNS as
 * `config.verificationCodes` says, else nowhere ({@link codesOff}).
 */
export function codeSenderFor(
  config: RuntimeConfig,
  transport: CodeTransport,
  given?: CodeSender,
): CodeSender {
  return given ?? (config.verificationCodes ? awsCodeSender(config.verificationCodes, transport) : codesOff);
}
