/** `$connect`: remember the connection so pushes can reach it; nothing about the client is stored. */

import type { WsEvent, WsHandler } from '../../contract/events.ts';
import type { Clock } from '../domain/clock.ts';
import { type ConnectionStore, newConnectionRecord } from '../domain/connections.ts';

export interface ConnectDeps {
  readonly connections: ConnectionStore;
  readonly clock: Clock;
}

export function makeConnectHandler(deps: ConnectDeps): WsHandler {
  return async (event: WsEvent) => {
    const { connectionId, connectedAt } = event.requestContext;
    await deps.connections.open(newConnectionRecord(connectionId, connectedAt ?? deps.clock.now()));
    return { statusCode: 200 };
  };
}
