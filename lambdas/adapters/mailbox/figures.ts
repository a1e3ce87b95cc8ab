/**
 * The mailbox table in counts, for the operator's usage figures: messages waiting and the mailboxes
 * holding them, from the message items' keys. Recipients are counted in memory and never leave
 * this function; no sender, message or content is read. Messages past their expiry that TTL has
 * not deleted yet are included, so it is an estimate from above. A whole-table read: an
 * operator's tool, never a request path.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { A, type MailboxTable } from './table.ts';

export interface WaitingFigures {
  readonly messages: number;
  readonly mailboxes: number;
}

export async function waitingFigures(table: MailboxTable): Promise<WaitingFigures> {
  let messages = 0;
  const mailboxes = new Set<string>();
  const scan = pages((start) =>
    translateAwsError(() =>
      table.dynamo.send(
        new ScanCommand({
          TableName: table.name,
          FilterExpression: 'begins_with(#key, :message)',
          ProjectionExpression: '#recipient',
          ExpressionAttributeNames: { '#key': A.key, '#recipient': A.recipient },
          ExpressionAttributeValues: { ':message': 'm#' },
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of scan) {
    for (const item of items) {
      messages++;
      mailboxes.add(String(item[A.recipient]));
    }
  }
  return { messages, mailboxes: mailboxes.size };
}
