/** The mailbox table: for now only what the directory needs, purging one recipient's messages. */
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MailboxPurger } from '../domain/directory.ts';
import { translateAwsError } from './errors.ts';
import { MAILBOX } from './schema.ts';

const A = MAILBOX.attributes;
/** BatchWriteItem takes at most 25 requests per call. */
const BATCH_WRITE_MAX = 25;

export function dynamoMailboxPurger(dynamo: DynamoDBDocumentClient, tableName: string): MailboxPurger {
  return {
    async purge(identity) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await translateAwsError(() =>
          dynamo.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: '#r = :r',
              ExpressionAttributeNames: { '#r': A.recipient, '#s': A.seq },
              ExpressionAttributeValues: { ':r': identity },
              ProjectionExpression: '#r, #s',
              ExclusiveStartKey: start,
            }),
          ),
        );
        const items = page.Items ?? [];
        for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) {
          let requests: unknown[] | undefined = items
            .slice(i, i + BATCH_WRITE_MAX)
            .map((Key) => ({ DeleteRequest: { Key } }));
          for (let attempt = 0; requests && requests.length > 0; attempt++) {
            if (attempt > 8) throw new Error('BatchWrite did not finish');
            if (attempt > 0)
              await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
            const result = await translateAwsError(() =>
              dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } })),
            );
            requests = result.UnprocessedItems?.[tableName];
          }
        }
        start = page.LastEvaluatedKey;
      } while (start);
    },
  };
}
