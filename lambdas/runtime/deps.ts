/**
 * Dependencies of every handler, built once per container (or once per local runner) from a
 * RuntimeConfig and the AWS clients. Adapters are created on first use, so a function only touches
 * the tables its manifest entry names; asking for any other one fails loudly.
 */
import { dynamoConnectionStore } from '../adapters/connections.ts';
import type { TableName } from '../adapters/schema.ts';
import { type Clock, type Random, systemClock, systemRandom } from '../domain/clock.ts';
import type { ConnectionStore } from '../domain/connections.ts';
import type { AwsClients } from './clients.ts';
import { ConfigError, ENV, type RuntimeConfig } from './env.ts';
import { createLogger, type Logger } from './log.ts';

export interface Deps {
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly connections: ConnectionStore;
}

export interface DepsOverrides {
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
}

function tableName(config: RuntimeConfig, table: TableName): string {
  const name = config.tables[table];
  if (!name) throw new ConfigError(ENV.tables[table], 'is not configured for this function');
  return name;
}

export function buildDeps(config: RuntimeConfig, clients: AwsClients, overrides: DepsOverrides = {}): Deps {
  let connections: ConnectionStore | undefined;
  return {
    config,
    clock: overrides.clock ?? systemClock,
    random: overrides.random ?? systemRandom,
    log: overrides.log ?? createLogger(),
    get connections() {
      connections ??= dynamoConnectionStore(clients.dynamo, tableName(config, 'connections'));
      return connections;
    },
  };
}
