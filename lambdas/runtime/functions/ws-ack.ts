/** `wsAck`: sessions and the mailbox (deleting what the recipient acknowledged). */
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { dynamoMailboxStore } from '../../adapters/mailbox.ts';
import { makeAckHandler } from '../../handlers/ws-chat.ts';
import type { RuntimeConfig } from '../env.ts';
import { type Base, chatRoute, chatWith, type DynamoClients, tableName } from './shared.ts';

export function composeWsAck(config: RuntimeConfig, clients: DynamoClients, base: Base) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
    mailbox: dynamoMailboxStore(clients.dynamo, tableName(config, 'mailbox')),
  });
  return chatRoute(base, chat, makeAckHandler);
}
