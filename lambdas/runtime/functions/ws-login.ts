/**
 * `wsLogin` (handshake, step 2): the connections and identities tables, the server key, and the
 * owner record the session is listed on (closing the oldest sessions beyond the limit).
 */
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { dynamoIdentityStore } from '../../adapters/identities.ts';
import { dynamoMailboxStore } from '../../adapters/mailbox.ts';
import { connectionsPusher } from '../../adapters/push.ts';
import { makeLoginHandler } from '../../handlers/ws-chat.ts';
import type { RuntimeConfig } from '../env.ts';
import {
  type Base,
  chatRoute,
  chatWith,
  type DynamoClients,
  type ManagementClient,
  managementEndpoint,
  type SecretClients,
  serverKeySource,
  tableName,
} from './shared.ts';

export function composeWsLogin(
  config: RuntimeConfig,
  clients: DynamoClients & SecretClients & ManagementClient,
  base: Base,
) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
    identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
    mailbox: dynamoMailboxStore(clients.dynamo, tableName(config, 'mailbox')),
    pusher: connectionsPusher(clients.management(managementEndpoint(config))),
    serverKey: serverKeySource(config, clients.secrets),
  });
  return chatRoute(base, chat, makeLoginHandler);
}
