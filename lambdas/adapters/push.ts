/** Pushes to WebSocket connections through API Gateway's `@connections` API. */
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { Pusher } from '../domain/chat.ts';

export function connectionsPusher(client: ApiGatewayManagementApiClient): Pusher {
  return {
    async push(connectionId, frame) {
      try {
        await client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(frame, 'utf8') }),
        );
        return 'sent';
      } catch (error) {
        // 410: the connection is gone (closed, or its $disconnect was lost). Anything else is
        // transient; the message stays queued until the recipient pulls and acks it.
        return error instanceof GoneException ? 'gone' : 'failed';
      }
    },
    async disconnect(connectionId) {
      try {
        await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      } catch (error) {
        if (!(error instanceof GoneException)) throw error;
      }
    },
  };
}
