/** `wsDisconnect` ($disconnect): the connection record, and the session on its owner record. */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import { dynamoConnectionStore } from '../../adapters/connections.ts';
import { dynamoMailboxStore } from '../../adapters/mailbox.ts';
import { makeDisconnectHandler } from '../../handlers/ws-disconnect.ts';
import type { RuntimeConfig } from '../env.ts';
import { wsStack } from '../middlewares.ts';
import { type Base, type DynamoClients, tableName } from './shared.ts';

export function composeWsDisconnect(config: RuntimeConfig, clients: DynamoClients, base: Base) {
  const connections = dynamoConnectionStore(clients.dynamo, tableName(config, 'connections'));
  const mailbox = dynamoMailboxStore(clients.dynamo, tableName(config, 'mailbox'));
  return middy(makeDisconnectHandler({ connections, mailbox })).use(wsStack(base, LIMITS.wsMessageBytes));
}
