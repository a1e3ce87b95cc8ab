/** `wsConnect` ($connect): the connections table only. */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import { dynamoConnectionStore } from '../../adapters/connections.ts';
import { makeConnectHandler } from '../../handlers/ws-connect.ts';
import type { RuntimeConfig } from '../env.ts';
import { wsStack } from '../middlewares.ts';
import { type Base, type DynamoClients, tableName } from './shared.ts';

export function composeWsConnect(config: RuntimeConfig, clients: DynamoClients, base: Base) {
  const connections = dynamoConnectionStore(clients.dynamo, tableName(config, 'connections'));
  return middy(makeConnectHandler({ connections, clock: base.clock })).use(
    wsStack(base, LIMITS.wsMessageBytes),
  );
}
