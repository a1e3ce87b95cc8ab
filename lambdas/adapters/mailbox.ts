/**
 * The mailbox table behind MailboxStore (and the directory's MailboxPurger). Each operation lives in
 * mailbox/ by its reason to change: the item layout (table.ts), storing with the quota counters and
 * rate window (store.ts), recounting the counters (quota.ts), pages for delivery (delivery.ts),
 * deleting acked messages (acks.ts) and purging a mailbox (purge.ts).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MailboxStore } from '../domain/chat.ts';
import type { MailboxPurger } from '../domain/directory.ts';
import { removeAcked } from './mailbox/acks.ts';
import { deliveryPage } from './mailbox/delivery.ts';
import { purgeMailbox } from './mailbox/purge.ts';
import { storeMessages } from './mailbox/store.ts';
import type { MailboxTable } from './mailbox/table.ts';

/**
 * `ephemeralTable` (the senders' rate windows) is needed by `store` only; functions that only
 * pull, ack or purge don't have it.
 */
export function dynamoMailboxStore(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  ephemeralTable?: string,
): MailboxStore & MailboxPurger {
  const table: MailboxTable = { dynamo, name: tableName };
  return {
    store: (messages, rate) => storeMessages(table, ephemeralTable, messages, rate),
    page: (recipient, nowSeconds) => deliveryPage(table, recipient, nowSeconds),
    remove: (recipient, refs) => removeAcked(table, recipient, refs),
    purge: (identity) => purgeMailbox(table, identity),
  };
}

/** The directory's view: purging only. */
export function dynamoMailboxPurger(dynamo: DynamoDBDocumentClient, tableName: string): MailboxPurger {
  return dynamoMailboxStore(dynamo, tableName);
}

export { type WaitingFigures, waitingFigures } from './mailbox/figures.ts';
