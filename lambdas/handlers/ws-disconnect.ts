/** `$disconnect`: forget the connection. Best effort on AWS, hence the record's TTL as well. */

import type { WsEvent, WsHandler } from '../../contract/events.ts';
import type { ConnectionStore } from '../domain/connections.ts';

export interface DisconnectDeps {
  readonly connections: ConnectionStore;
}

export function makeDisconnectHandler(deps: DisconnectDeps): WsHandler {
  return async (event: WsEvent) => {
    await deps.connections.close(event.requestContext.connectionId);
    return { statusCode: 200 };
  };
}
