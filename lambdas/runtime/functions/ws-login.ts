/** `wsLogin` (handshake, step 2): the connections and identities tables and the server key. */
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { dynamoIdentityStore } from '../../adapters/identities.ts';
import { makeLoginHandler } from '../../handlers/ws-chat.ts';
import type { RuntimeConfig } from '../env.ts';
import {
  type Base,
  chatRoute,
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
  return chatRoute(base, chat, makeLoginHandler);
}
