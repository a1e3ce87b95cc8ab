/**
 * `$disconnect`: forget the connection, and take a logged-in session off its identity's owner
 * record (pushes stop looking for it). Best effort on AWS, hence the records' expiry as well.
 */

import type { WsEvent, WsHandler } from '../../contract/events.ts';
import type { MailboxStore } from '../domain/chat.ts';
import type { ConnectionStore } from '../domain/connections.ts';

export interface DisconnectDeps {
  readonly connections: ConnectionStore;
  readonly mailbox: Pick<MailboxStore, 'leave'>;
}

export function makeDisconnectHandler(deps: DisconnectDeps): WsHandler {
  return async (event: WsEvent) => {
    const connectionId = event.requestContext.connectionId;
    const identity = await deps.connections.close(connectionId);
    if (identity) await deps.mailbox.leave(identity, connectionId);
    return { statusCode: 200 };
  };
}
