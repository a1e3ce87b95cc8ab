/** Storing a message: one conditional put, idempotent on (sender, message id). No transaction. */
import { randomBytes } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredMessage } from '../../domain/chat.ts';
import { conditional } from '../errors.ts';
import { A, type MailboxTable, messageKey } from './table.ts';

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
          // Arrival order: server time, then random bytes so equal times don't collide.
          [A.seq]: `${String(message.sentAt).padStart(16, '0')}#${randomBytes(4).toString('hex')}`,
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
