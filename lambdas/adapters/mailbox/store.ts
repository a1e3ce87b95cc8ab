/** Storing a message: one conditional put, idempotent on (sender, message id). No transaction. */
import { randomBytes } from 'node:crypto';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredMessage } from '../../domain/chat.ts';
import { conditional } from '../errors.ts';
import { A, type MailboxTable, messageKey } from './table.ts';

/**
 * A copy's place in the backlog's arrival order (the `byArrival` index's sort key): server time,
 * then random bytes so equal times don't collide.
 */
function arrivalSeq(sentAt: number): string {
  return `${String(sentAt).padStart(16, '0')}#${randomBytes(4).toString('hex')}`;
}

/** Stores one copy; 'duplicate' when that (sender, id) is already in the recipient's mailbox. */
export async function putMessage(
  table: MailboxTable,
  message: StoredMessage,
): Promise<'stored' | 'duplicate'> {
  const stored = await conditional(() =>
    table.dynamo.send(
      new PutCommand({
        TableName: table.name,
        Item: {
          [A.recipient]: message.recipient,
          [A.key]: messageKey(message.sender, message.id),
          // The index is sparse: only a copy that waits for a pull is in it (see markWaiting).
          ...(message.waiting ? { [A.seq]: arrivalSeq(message.sentAt) } : {}),
          [A.sender]: message.sender,
          [A.messageId]: message.id,
          [A.nonce]: message.nonce,
          [A.box]: message.box,
          [A.flags]: message.flags,
          [A.sentAt]: message.sentAt,
          [A.bytes]: message.box.length,
          [A.expiresAt]: message.expiresAt,
        },
        // Idempotent on sender + message id: a retried send finds its message already stored.
        ConditionExpression: 'attribute_not_exists(#k)',
        ExpressionAttributeNames: { '#k': A.key },
      }),
    ),
  );
  return stored ? 'stored' : 'duplicate';
}

/**
 * Puts a stored copy into the arrival index, where pulls find the backlog in order. Nothing when
 * the copy is gone (acked meanwhile) or indexed already.
 */
export async function markWaiting(
  table: MailboxTable,
  recipient: string,
  sender: string,
  id: Uint8Array,
  sentAt: number,
): Promise<void> {
  await conditional(() =>
    table.dynamo.send(
      new UpdateCommand({
        TableName: table.name,
        Key: { [A.recipient]: recipient, [A.key]: messageKey(sender, id) },
        UpdateExpression: 'SET #seq = :seq',
        ConditionExpression: 'attribute_exists(#k) AND attribute_not_exists(#seq)',
        ExpressionAttributeNames: { '#k': A.key, '#seq': A.seq },
        ExpressionAttributeValues: { ':seq': arrivalSeq(sentAt) },
      }),
    ),
  );
}
