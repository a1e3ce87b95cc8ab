/** `reaper` (scheduled): closes connections past the login deadline; the connections table and `@connections`. */
import middy from '@middy/core';
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { connectionsPusher } from '../../adapters/push.ts';
import type { RuntimeConfig } from '../env.ts';
import { scheduleStack } from '../middlewares.ts';
import {
  type Base,
  chatWith,
  type DynamoClients,
  type ManagementClient,
  managementEndpoint,
  tableName,
} from './shared.ts';

export function composeReaper(config: RuntimeConfig, clients: DynamoClients & ManagementClient, base: Base) {
  const chat = chatWith(config, base, {
    sessions: dynamoSessionStore(clients.dynamo, tableName(config, 'connections')),
    pusher: connectionsPusher(clients.management(managementEndpoint(config))),
  });
  return middy(() => chat.reapUnauthenticated()).use(scheduleStack(base, 'reaper'));
}
