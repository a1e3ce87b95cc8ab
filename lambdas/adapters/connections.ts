/** The connections table behind ConnectionStore. */
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConnectionRecord, ConnectionStore } from '../domain/connections.ts';
import { translateAwsError } from './errors.ts';
import { CONNECTIONS } from './schema.ts';

const A = CONNECTIONS.attributes;

export function dynamoConnectionStore(dynamo: DynamoDBDocumentClient, tableName: string): ConnectionStore {
  return {
    async open(record: ConnectionRecord) {
      await translateAwsError(() =>
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              [A.connectionId]: record.connectionId,
              [A.connectedAt]: record.connectedAt,
              [A.expiresAt]: record.expiresAt,
            },
          }),
        ),
      );
    },
    async close(connectionId: string) {
      await translateAwsError(() =>
        dynamo.send(new DeleteCommand({ TableName: tableName, Key: { [A.connectionId]: connectionId } })),
      );
    },
  };
}
