/**
 * Deleting many items of a mailbox: acked messages, and a whole mailbox for a revoked or deleted
 * identity (its owner record stays, closed: see owner.ts).
 */
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../../protocol/identity.ts';
import { translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { withRetries } from '../retries.ts';
import { A, type Item, type MailboxTable, OWNER_KEY } from './table.ts';

/** BatchWriteItem takes at most 25 requests per call. */
const BATCH_WRITE_MAX = 25;

/** Deletes items by key, 25 per request, all batches at once; unprocessed ones are retried. */
export async function deleteKeys(table: MailboxTable, keys: readonly Item[]): Promise<void> {
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

export async function purgeMailbox(table: MailboxTable, identity: IdentityId): Promise<void> {
  const keys = pages((start: Item | undefined) =>
    translateAwsError(() =>
      table.dynamo.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: '#r = :r',
          ExpressionAttributeNames: { '#r': A.recipient, '#k': A.key },
          ExpressionAttributeValues: { ':r': identity },
          ProjectionExpression: '#r, #k',
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of keys)
    await deleteKeys(
      table,
      items.filter((item) => item[A.key] !== OWNER_KEY),
    );
}
