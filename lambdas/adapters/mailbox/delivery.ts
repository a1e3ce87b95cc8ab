/** Reading a mailbox for delivery: the oldest unexpired messages, a page at a time. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Delivery } from '../../../protocol/chat.ts';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import { translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { A, ARRIVAL_INDEX, type Item, type MailboxTable } from './table.ts';

function toDelivery(item: Item): Delivery {
  return {
    sender: String(item[A.sender]),
    id: item[A.messageId] as Uint8Array,
    flags: Number(item[A.flags]),
    nonce: item[A.nonce] as Uint8Array,
    box: item[A.box] as Uint8Array,
    sentAt: Number(item[A.sentAt]),
  };
}

/** The oldest unexpired messages in arrival order, within LIMITS.pullPageMessages/pullPageBytes. */
export async function deliveryPage(
  table: MailboxTable,
  recipient: IdentityId,
  nowSeconds: number,
): Promise<{ messages: Delivery[]; more: boolean }> {
  const messages: Delivery[] = [];
  let bytes = 0;
  const found = pages((start: Item | undefined) =>
    translateAwsError(() =>
      table.dynamo.send(
        new QueryCommand({
          TableName: table.name,
          IndexName: ARRIVAL_INDEX,
          KeyConditionExpression: '#r = :r',
          // TTL deletes lazily (often within 48 h, no guarantee): expired messages are never served.
          FilterExpression: '#exp > :now',
          ExpressionAttributeNames: { '#r': A.recipient, '#exp': A.expiresAt },
          ExpressionAttributeValues: { ':r': recipient, ':now': nowSeconds },
          ConsistentRead: true,
          Limit: LIMITS.pullPageMessages + 1,
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of found) {
    for (const item of items) {
      const size = (item[A.box] as Uint8Array).length;
      const full =
        messages.length >= LIMITS.pullPageMessages ||
        (messages.length > 0 && bytes + size > LIMITS.pullPageBytes);
      if (full) return { messages, more: true };
      messages.push(toDelivery(item));
      bytes += size;
    }
  }
  return { messages, more: false };
}
