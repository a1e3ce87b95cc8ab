/**
 * `wsSend`: sessions, the recipients' owner records and mailboxes (identities only for owner records
 * not made yet), the sender's rate window, and pushes over `@connections`.
 */
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { dynamoEphemeralStore } from '../../adapters/ephemeral.ts';
import { dynamoIdentityStore } from '../../adapters/identities.ts';
import { dynamoMailboxStore } from '../../adapters/mailbox.ts';
import { connectionsPusher } from '../../adapters/push.ts';
import { epochSeconds } from '../../domain/clock.ts';
import { makeSendHandler } from '../../handlers/ws-chat.ts';
import type { RuntimeConfig } from '../env.ts';
import {
  type Base,
  chatRoute,
  chatWith,
  type DynamoClients,
  type ManagementClient,
  managementEndpoint,
  tableName,
} from './shared.ts';

export function composeWsSend(config: RuntimeConfig, clients: DynamoClients & ManagementClient, base: Base) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
    identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
    mailbox: dynamoMailboxStore(clients.dynamo, tableName(config, 'mailbox')),
    rates: dynamoEphemeralStore(clients.dynamo, tableName(config, 'ephemeral'), () =>
      epochSeconds(base.clock.now()),
    ),
    pusher: connectionsPusher(clients.management(managementEndpoint(config))),
  });
  return chatRoute(base, chat, makeSendHandler);
}
