/**
 * The mailbox table in counts, for the operator's usage figures: messages waiting and the mailboxes
 * holding them, from the quota counters (table.ts). Reads only the counters' `count` — never a
 * recipient, sender or message — and includes messages past their expiry that TTL has not deleted
 * yet, so it is an estimate from above. A whole-table read: an operator's tool, never a request path.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { A, COUNTER, type MailboxTable } from './table.ts';

export interface WaitingFigures {
  readonly messages: number;
  readonly mailboxes: number;
}

export async function waitingFigures(table: MailboxTable): Promise<WaitingFigures> {
  let messages = 0;
  let mailboxes = 0;
  const scan = pages((start) =>
    translateAwsError(() =>
      table.dynamo.send(
        new ScanCommand({
          TableName: table.name,
          FilterExpression: '#key = :counter',
          ProjectionExpression: '#count',
          ExpressionAttributeNames: { '#key': A.key, '#count': A.count },
          ExpressionAttributeValues: { ':counter': COUNTER },
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of scan) {
    for (const item of items) {
      const count = Number(item[A.count] ?? 0);
      if (count > 0) {
        messages += count;
        mailboxes++;
      }
    }
  }
  return { messages, mailboxes };
}
