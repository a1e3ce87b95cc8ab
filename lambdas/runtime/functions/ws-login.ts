/** `wsLogin` (handshake, step 2): the connections and identities tables and the server key. */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { dynamoIdentityStore } from '../../adapters/identities.ts';
import { makeLoginHandler } from '../../handlers/ws-chat.ts';
import type { RuntimeConfig } from '../env.ts';
import { wsStack } from '../middlewares.ts';
import {
  type Base,
  chatWith,
  type DynamoClients,
  type SecretClients,
  serverKeySource,
  tableName,
} from './shared.ts';

export function composeWsLogin(config: RuntimeConfig, clients: DynamoClients & SecretClients, base: Base) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
    identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
    serverKey: serverKeySource(config, clients.secrets),
  });
  return middy(makeLoginHandler({ chat, random: base.random, log: base.log })).use(
    wsStack(base, LIMITS.wsMessageBytes),
  );
}
