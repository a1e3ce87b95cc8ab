/** Deleting every item of one partition: a purged mailbox, a deleted or replaced vault. */
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { translateAwsError } from './errors.ts';
import { pages } from './paging.ts';
import { withRetries } from './retries.ts';

type Item = Record<string, unknown>;

/** BatchWriteItem takes at most 25 requests per call. */
const BATCH_WRITE_MAX = 25;

/** The table and its key attribute names. */
export interface PartitionTable {
  readonly dynamo: DynamoDBDocumentClient;
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Deletes every item whose partition key is `value`, page by page (keys only), 25 per batch. */
export async function deletePartition(table: PartitionTable, value: string): Promise<void> {
  const keys = pages((start: Item | undefined) =>
    translateAwsError(() =>
      table.dynamo.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: '#p = :p',
          ExpressionAttributeNames: { '#p': table.partitionKey, '#s': table.sortKey },
          ExpressionAttributeValues: { ':p': value },
          ProjectionExpression: '#p, #s',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of keys) {
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) {
      let requests: unknown[] | undefined = items
        .slice(i, i + BATCH_WRITE_MAX)
        .map((Key) => ({ DeleteRequest: { Key } }));
      await withRetries(9, async () => {
        const result = await translateAwsError(() =>
          table.dynamo.send(new BatchWriteCommand({ RequestItems: { [table.name]: requests as never } })),
        );
        requests = result.UnprocessedItems?.[table.name];
        return requests && requests.length > 0 ? undefined : true;
      });
    }
  }
}
