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

/**
 * The mailbox's unexpired messages: first those waiting in the sparse `byArrival` index, in arrival
 * order; then, once that is exhausted, the copies that were pushed to a live session and never
 * acknowledged (not in the index: the session went away before its ack), oldest first. Lazy: a
 * caller that stops early reads no further.
 */
async function* deliverable(table: MailboxTable, recipient: IdentityId, nowSeconds: number) {
  const query = (input: Partial<ConstructorParameters<typeof QueryCommand>[0]>) =>
    pages((start: Item | undefined) =>
      translateAwsError(() =>
        table.dynamo.send(
          new QueryCommand({
            TableName: table.name,
            ExpressionAttributeValues: { ':r': recipient, ':now': nowSeconds },
            ConsistentRead: true,
            Limit: LIMITS.pullPageMessages + 1,
            ExclusiveStartKey: start,
            ...input,
          }),
        ),
      ),
    );
  // TTL deletes lazily (often within 48 h, no guarantee): expired messages are never served.
  for await (const items of query({
    IndexName: ARRIVAL_INDEX,
    KeyConditionExpression: '#r = :r',
    FilterExpression: '#exp > :now',
    ExpressionAttributeNames: { '#r': A.recipient, '#exp': A.expiresAt },
  }))
    yield* items;
  const pushed: Item[] = [];
  for await (const items of query({
    KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
    FilterExpression: 'attribute_not_exists(#seq) AND #exp > :now',
    ExpressionAttributeNames: { '#r': A.recipient, '#k': A.key, '#seq': A.seq, '#exp': A.expiresAt },
    ExpressionAttributeValues: { ':r': recipient, ':now': nowSeconds, ':m': 'm#' },
  }))
    pushed.push(...items);
  yield* pushed.sort((a, b) => Number(a[A.sentAt]) - Number(b[A.sentAt]));
}

/**
 * The oldest unexpired messages (see `deliverable` for the order), within
 * LIMITS.pullPageMessages/pullPageBytes.
 */
export async function deliveryPage(
  table: MailboxTable,
  recipient: IdentityId,
  nowSeconds: number,
): Promise<{ messages: Delivery[]; more: boolean }> {
  const messages: Delivery[] = [];
  let bytes = 0;
  for await (const item of deliverable(table, recipient, nowSeconds)) {
    const size = (item[A.box] as Uint8Array).length;
    const full =
      messages.length >= LIMITS.pullPageMessages ||
      (messages.length > 0 && bytes + size > LIMITS.pullPageBytes);
    if (full) return { messages, more: true };
    messages.push(toDelivery(item));
    bytes += size;
  }
  return { messages, more: false };
}
