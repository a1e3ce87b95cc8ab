/** Acknowledged messages: deleted with the quota counters going down by what was really there. */
import { BatchGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../../protocol/identity.ts';
import type { MessageRef } from '../../domain/chat.ts';
import { fromAwsError, translateAwsError } from '../errors.ts';
import { cancellationCodes, withRetries } from '../retries.ts';
import { A, counterKey, type MailboxTable, messageKey } from './table.ts';

/** Deletes `refs` from the recipient's mailbox; returns how many existed. */
export async function removeAcked(
  table: MailboxTable,
  recipient: IdentityId,
  refs: readonly MessageRef[],
): Promise<number> {
  if (refs.length === 0) return 0;
  const unique = [...new Map(refs.map((ref) => [messageKey(ref.sender, ref.id), ref])).keys()];
  return withRetries(4, async () => {
    // Read sizes first so the counter goes down by what is really deleted.
    const found = await translateAwsError(() =>
      table.dynamo.send(
        new BatchGetCommand({
          RequestItems: {
            [table.name]: {
              Keys: unique.map((key) => ({ [A.recipient]: recipient, [A.key]: key })),
              ProjectionExpression: '#k, #b',
              ExpressionAttributeNames: { '#k': A.key, '#b': A.bytes },
              ConsistentRead: true,
            },
          },
        }),
      ),
    );
    if (Object.keys(found.UnprocessedKeys ?? {}).length > 0) return undefined;
    const existing = found.Responses?.[table.name] ?? [];
    if (existing.length === 0) return 0;
    const bytes = existing.reduce((sum, item) => sum + Number(item[A.bytes] ?? 0), 0);
    try {
      await table.dynamo.send(
        new TransactWriteCommand({
          TransactItems: [
            ...existing.map((item) => ({
              Delete: {
                TableName: table.name,
                Key: { [A.recipient]: recipient, [A.key]: item[A.key] },
                ConditionExpression: 'attribute_exists(#k)',
                ExpressionAttributeNames: { '#k': A.key },
              },
            })),
            {
              Update: {
                TableName: table.name,
                Key: counterKey(recipient),
                UpdateExpression: 'ADD #c :count, #b :bytes',
                ExpressionAttributeNames: { '#c': A.count, '#b': A.bytes },
                ExpressionAttributeValues: { ':count': -existing.length, ':bytes': -bytes },
              },
            },
          ],
        }),
      );
      return existing.length;
    } catch (error) {
      // Another connection of the same recipient acked some of them first: read again.
      if (cancellationCodes(error)) return undefined;
      throw fromAwsError(error);
    }
  });
}
