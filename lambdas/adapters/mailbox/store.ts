/** Storing messages: one transaction with the quota counters and the sender's rate window. */
import { randomBytes } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SwitchyardError } from '../../../protocol/errors.ts';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import type { StoredMessage, StoreOutcome } from '../../domain/chat.ts';
import { rateWindowUpdate } from '../ephemeral.ts';
import { fromAwsError } from '../errors.ts';
import { backoff, cancellationCodes } from '../retries.ts';
import { recount } from './quota.ts';
import { A, counterKey, type MailboxTable, messageKey } from './table.ts';

export interface RateWindow {
  readonly bucket: string;
  readonly limit: number;
  readonly windowEndsAt: number;
}

type Attempt =
  | { outcome: StoreOutcome }
  | { duplicates: Set<number> }
  | { full: IdentityId[] }
  | { conflict: true };

async function storeOnce(
  table: MailboxTable,
  ephemeralTable: string | undefined,
  messages: readonly StoredMessage[],
  rate: RateWindow,
): Promise<Attempt> {
  const items = messages.flatMap((message) => [
    {
      Put: {
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
      },
    },
    {
      Update: {
        TableName: table.name,
        Key: counterKey(message.recipient),
        UpdateExpression: 'ADD #c :one, #b :bytes',
        ConditionExpression: 'attribute_not_exists(#c) OR (#c < :maxCount AND #b <= :room)',
        ExpressionAttributeNames: { '#c': A.count, '#b': A.bytes },
        ExpressionAttributeValues: {
          ':one': 1,
          ':bytes': message.box.length,
          ':maxCount': LIMITS.mailboxMaxMessages,
          ':room': LIMITS.mailboxMaxBytes - message.box.length,
        },
      },
    },
  ]);
  if (!ephemeralTable) throw new Error('mailbox store: no rate-window table configured');
  items.push({
    Update: rateWindowUpdate(ephemeralTable, rate.bucket, 1, rate.limit, rate.windowEndsAt),
  } as never);
  try {
    await table.dynamo.send(new TransactWriteCommand({ TransactItems: items }));
    return { outcome: 'stored' };
  } catch (error) {
    const codes = cancellationCodes(error);
    if (!codes) throw fromAwsError(error);
    if (codes.at(-1) === 'ConditionalCheckFailed') return { outcome: 'rate_limited' };
    const duplicates = new Set<number>();
    const full: IdentityId[] = [];
    messages.forEach((message, index) => {
      if (codes[index * 2] === 'ConditionalCheckFailed') duplicates.add(index);
      if (codes[index * 2 + 1] === 'ConditionalCheckFailed') full.push(message.recipient);
    });
    if (full.length > 0) return { full };
    if (duplicates.size > 0) return { duplicates };
    // Contention with a concurrent transaction on the same counter: let the caller retry.
    if (codes.includes('TransactionConflict')) return { conflict: true };
    throw fromAwsError(error);
  }
}

/**
 * Stores one copy per recipient, all or nothing; see MailboxStore.store. `ephemeralTable` holds the
 * senders' rate windows.
 */
export async function storeMessages(
  table: MailboxTable,
  ephemeralTable: string | undefined,
  messages: readonly StoredMessage[],
  rate: RateWindow,
): Promise<StoreOutcome> {
  let pending = [...messages];
  let recounted = false;
  let conflicts = 0;
  for (let attempt = 0; attempt < 12; attempt++) {
    const result = await storeOnce(table, ephemeralTable, pending, rate);
    if ('outcome' in result) return result.outcome;
    if ('conflict' in result) {
      // Concurrent sends to one mailbox (or from one sender) touch the same counter items:
      // DynamoDB cancels all but one transaction. Nothing was written; back off and try again.
      await backoff(++conflicts);
      continue;
    }
    if ('full' in result) {
      if (recounted) return 'mailbox_full';
      // The counter may still count messages that expired; recount once before refusing.
      const now = Math.floor(pending[0]!.sentAt / 1000);
      for (const recipient of result.full) await recount(table, recipient, now);
      recounted = true;
      continue;
    }
    if (result.duplicates.size === pending.length) return 'duplicate';
    pending = pending.filter((_, index) => !result.duplicates.has(index));
  }
  // Still contended: nothing was stored, and the sender may retry (same id, stored once).
  throw new SwitchyardError('unavailable');
}
