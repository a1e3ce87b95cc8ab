/**
 * The mailbox table behind MailboxStore (and the directory's MailboxPurger).
 *
 *   recipient | key                        | seq (byArrival)     | sender, messageId, nonce, box, flags, sentAt, bytes, expiresAt
 *   ABCD1234  | m#EFGH5678#0011223344556677 | 0001763793600123#… |
 *   ABCD1234  | #counter                   |                     | count, bytes           (quota counters)
 */
import { randomBytes } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { MAILBOX } from '../../contract/schema.ts';
import { toHex } from '../../protocol/bytes.ts';
import type { Delivery } from '../../protocol/chat.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { MailboxStore, StoredMessage, StoreOutcome } from '../domain/chat.ts';
import type { MailboxPurger } from '../domain/directory.ts';
import { rateWindowUpdate } from './ephemeral.ts';
import { fromAwsError, translateAwsError } from './errors.ts';

const A = MAILBOX.attributes;
const ARRIVAL_INDEX = MAILBOX.localIndexes[0].indexName;
const COUNTER = '#counter';
/** BatchWriteItem takes at most 25 requests per call, BatchGetItem 100 keys. */
const BATCH_WRITE_MAX = 25;

type Item = Record<string, unknown>;

function messageKey(sender: string, id: Uint8Array): string {
  return `m#${sender}#${toHex(id)}`;
}

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

function cancellationCodes(error: unknown): string[] | undefined {
  const cause = (error as { cause?: unknown }).cause ?? error;
  if (!(cause instanceof TransactionCanceledException)) return undefined;
  return (cause.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

/**
 * Waits before retry number `attempt` (1, 2, …): exponential with full jitter, so writers that
 * conflicted on the same item (a mailbox counter, a sender's rate window) spread out instead of
 * colliding again in lockstep.
 */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 25 * 2 ** attempt)));
}

/** Runs `run` until it returns a value; out of attempts is `unavailable` (503, retry later), not `internal`. */
async function withRetries<T>(
  attempts: number,
  run: (attempt: number) => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const result = await run(attempt);
    if (result !== undefined) return result;
  }
  throw new SwitchyardError('unavailable');
}

/**
 * `ephemeralTable` (the senders' rate windows) is needed by `store` only; functions that only
 * pull, ack or purge don't have it.
 */
export function dynamoMailboxStore(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  ephemeralTable?: string,
): MailboxStore & MailboxPurger {
  const counterKey = (recipient: string) => ({ [A.recipient]: recipient, [A.key]: COUNTER });

  /** Recounts a mailbox from its unexpired messages (TTL deletes without decrementing the counter). */
  async function recount(recipient: IdentityId, nowSeconds: number): Promise<void> {
    let count = 0;
    let bytes = 0;
    let start: Item | undefined;
    do {
      const page = await translateAwsError(() =>
        dynamo.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
            FilterExpression: '#exp > :now',
            ExpressionAttributeNames: { '#r': A.recipient, '#k': A.key, '#exp': A.expiresAt, '#b': A.bytes },
            ExpressionAttributeValues: { ':r': recipient, ':m': 'm#', ':now': nowSeconds },
            ProjectionExpression: '#b',
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        count++;
        bytes += Number(item[A.bytes] ?? 0);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    await translateAwsError(() =>
      dynamo.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...counterKey(recipient), [A.count]: count, [A.bytes]: bytes },
        }),
      ),
    );
  }

  async function storeOnce(
    messages: readonly StoredMessage[],
    rate: { bucket: string; limit: number; windowEndsAt: number },
  ): Promise<
    { outcome: StoreOutcome } | { duplicates: Set<number> } | { full: IdentityId[] } | { conflict: true }
  > {
    const items = messages.flatMap((message) => [
      {
        Put: {
          TableName: tableName,
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
          TableName: tableName,
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
      await dynamo.send(new TransactWriteCommand({ TransactItems: items }));
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

  return {
    async store(messages, rate) {
      let pending = [...messages];
      let recounted = false;
      let conflicts = 0;
      for (let attempt = 0; attempt < 12; attempt++) {
        const result = await storeOnce(pending, rate);
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
          for (const recipient of result.full) await recount(recipient, now);
          recounted = true;
          continue;
        }
        if (result.duplicates.size === pending.length) return 'duplicate';
        pending = pending.filter((_, index) => !result.duplicates.has(index));
      }
      // Still contended: nothing was stored, and the sender may retry (same id, stored once).
      throw new SwitchyardError('unavailable');
    },

    async page(recipient, nowSeconds) {
      const messages: Delivery[] = [];
      let bytes = 0;
      let start: Item | undefined;
      do {
        const page = await translateAwsError(() =>
          dynamo.send(
            new QueryCommand({
              TableName: tableName,
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
        );
        for (const item of page.Items ?? []) {
          const size = (item[A.box] as Uint8Array).length;
          const full =
            messages.length >= LIMITS.pullPageMessages ||
            (messages.length > 0 && bytes + size > LIMITS.pullPageBytes);
          if (full) return { messages, more: true };
          messages.push(toDelivery(item));
          bytes += size;
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return { messages, more: false };
    },

    async remove(recipient, refs) {
      if (refs.length === 0) return 0;
      const unique = [...new Map(refs.map((ref) => [messageKey(ref.sender, ref.id), ref])).keys()];
      return withRetries(4, async () => {
        // Read sizes first so the counter goes down by what is really deleted.
        const found = await translateAwsError(() =>
          dynamo.send(
            new BatchGetCommand({
              RequestItems: {
                [tableName]: {
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
        const existing = found.Responses?.[tableName] ?? [];
        if (existing.length === 0) return 0;
        const bytes = existing.reduce((sum, item) => sum + Number(item[A.bytes] ?? 0), 0);
        try {
          await dynamo.send(
            new TransactWriteCommand({
              TransactItems: [
                ...existing.map((item) => ({
                  Delete: {
                    TableName: tableName,
                    Key: { [A.recipient]: recipient, [A.key]: item[A.key] },
                    ConditionExpression: 'attribute_exists(#k)',
                    ExpressionAttributeNames: { '#k': A.key },
                  },
                })),
                {
                  Update: {
                    TableName: tableName,
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
    },

    async purge(identity) {
      let start: Item | undefined;
      do {
        const page = await translateAwsError(() =>
          dynamo.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: '#r = :r',
              ExpressionAttributeNames: { '#r': A.recipient, '#k': A.key },
              ExpressionAttributeValues: { ':r': identity },
              ProjectionExpression: '#r, #k',
              ExclusiveStartKey: start,
            }),
          ),
        );
        const items = page.Items ?? [];
        for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) {
          let requests: unknown[] | undefined = items
            .slice(i, i + BATCH_WRITE_MAX)
            .map((Key) => ({ DeleteRequest: { Key } }));
          await withRetries(9, async () => {
            const result = await translateAwsError(() =>
              dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } })),
            );
            requests = result.UnprocessedItems?.[tableName];
            return requests && requests.length > 0 ? undefined : true;
          });
        }
        start = page.LastEvaluatedKey;
      } while (start);
    },
  };
}

/** The directory's view: purging only. */
export function dynamoMailboxPurger(dynamo: DynamoDBDocumentClient, tableName: string): MailboxPurger {
  return dynamoMailboxStore(dynamo, tableName);
}
