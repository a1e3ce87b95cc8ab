/**
 * `wsDefault` ($default: actions without a route of their own): the connections table, read
 * only to seal the `unknown_action` answer of a logged-in connection.
 */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { makeDefaultHandler } from '../../handlers/ws-default.ts';
import type { RuntimeConfig } from '../env.ts';
import { wsStack } from '../middlewares.ts';
import { type Base, chatWith, type DynamoClients, tableName } from './shared.ts';

export function composeWsDefault(config: RuntimeConfig, clients: DynamoClients, base: Base) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
  });
  return middy(makeDefaultHandler({ chat, random: base.random })).use(wsStack(base, LIMITS.wsMessageBytes));
}
