/**
 * Deleting many items by key: acked messages, a purged mailbox, a deleted or replaced vault.
 * BatchWriteItem, 25 keys per request, batches at once; unprocessed keys are retried.
 */
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

/** Deletes the items with these keys; a key whose item is gone already is no error. */
export async function deleteKeys(
  table: Pick<PartitionTable, 'dynamo' | 'name'>,
  keys: readonly Item[],
): Promise<void> {
  const batches: Item[][] = [];
  for (let i = 0; i < keys.length; i += BATCH_WRITE_MAX) batches.push(keys.slice(i, i + BATCH_WRITE_MAX));
  await Promise.all(
    batches.map(async (batch) => {
      let requests: unknown[] | undefined = batch.map((Key) => ({ DeleteRequest: { Key } }));
      await withRetries(9, async () => {
        const result = await translateAwsError(() =>
          table.dynamo.send(new BatchWriteCommand({ RequestItems: { [table.name]: requests as never } })),
        );
        requests = result.UnprocessedItems?.[table.name];
        return requests && requests.length > 0 ? undefined : true;
      });
    }),
  );
}

/**
 * Deletes every item whose partition key is `value`, page by page (keys only), except those whose
 * key `keep` says stay.
 */
export async function deletePartition(
  table: PartitionTable,
  value: string,
  keep: (key: Item) => boolean = () => false,
): Promise<void> {
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
  for await (const items of keys)
    await deleteKeys(
      table,
      items.filter((item) => !keep(item)),
    );
}
