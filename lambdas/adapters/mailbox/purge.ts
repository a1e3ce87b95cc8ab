/** Purging a whole mailbox (a revoked or deleted identity): messages and counters alike. */
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../../protocol/identity.ts';
import { translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { withRetries } from '../retries.ts';
import { A, type Item, type MailboxTable } from './table.ts';

/** BatchWriteItem takes at most 25 requests per call. */
const BATCH_WRITE_MAX = 25;

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
