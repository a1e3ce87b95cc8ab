/** `wsHello` (handshake, step 1): the connections table and the server key. */
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { makeHelloHandler } from '../../handlers/ws-chat.ts';
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

export function composeWsHello(config: RuntimeConfig, clients: DynamoClients & SecretClients, base: Base) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
    serverKey: serverKeySource(config, clients.secrets),
  });
  return chatRoute(base, chat, makeHelloHandler);
}
