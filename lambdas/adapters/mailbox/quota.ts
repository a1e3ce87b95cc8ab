/** The quota counters: recounting a mailbox whose counter drifted. */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../../protocol/identity.ts';
import { translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { A, counterKey, type Item, type MailboxTable } from './table.ts';

/** Recounts a mailbox from its unexpired messages (TTL deletes without decrementing the counter). */
export async function recount(table: MailboxTable, recipient: IdentityId, nowSeconds: number): Promise<void> {
  let count = 0;
  let bytes = 0;
  const messages = pages((start: Item | undefined) =>
    translateAwsError(() =>
      table.dynamo.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
          FilterExpression: '#exp > :now',
          ExpressionAttributeNames: { '#r': A.recipient, '#k': A.key, '#exp': A.expiresAt, '#b': A.bytes },
          ExpressionAttributeValues: { ':r': recipient, ':m': 'm#', ':now': nowSeconds },
          ProjectionExpression: '#b',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of messages) {
    for (const item of items) {
      count++;
      bytes += Number(item[A.bytes] ?? 0);
    }
  }
  await translateAwsError(() =>
    table.dynamo.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...counterKey(recipient), [A.count]: count, [A.bytes]: bytes },
      }),
    ),
  );
}
