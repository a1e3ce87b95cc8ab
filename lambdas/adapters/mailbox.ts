/**
 * The mailbox table behind MailboxStore (and the directory's MailboxPurger). Each operation lives in
 * mailbox/ by its reason to change: the item layout (table.ts), the owner record with its sessions
 * and approximate quota counters (owner.ts), storing (store.ts), pages for delivery (delivery.ts),
 * deleting acked messages (acks.ts) and purging a mailbox (purge.ts).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MailboxStore } from '../domain/chat.ts';
import type { MailboxPurger } from '../domain/directory.ts';
import { removeAcked } from './mailbox/acks.ts';
import { deliveryPage } from './mailbox/delivery.ts';
import {
  addToCounters,
  closeOwner,
  joinOwner,
  leaveOwner,
  openOwner,
  readOwner,
  recountOwner,
  reopenOwner,
} from './mailbox/owner.ts';
import { purgeMailbox } from './mailbox/purge.ts';
import { markWaiting, putMessage } from './mailbox/store.ts';
import type { MailboxTable } from './mailbox/table.ts';

export function dynamoMailboxStore(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
): MailboxStore & MailboxPurger {
  const table: MailboxTable = { dynamo, name: tableName };
  return {
    owner: (identity) => readOwner(table, identity),
    open: (identity) => openOwner(table, identity),
    join: (identity, session, nowSeconds) => joinOwner(table, identity, session, nowSeconds),
    leave: (identity, connectionId) => leaveOwner(table, identity, connectionId),
    close: (identity) => closeOwner(table, identity),
    reopen: (identity) => reopenOwner(table, identity),
    put: (message) => putMessage(table, message),
    markWaiting: (recipient, sender, id, sentAt) => markWaiting(table, recipient, sender, id, sentAt),
    addToCounters: (identity, count, bytes) => addToCounters(table, identity, count, bytes),
    recount: (identity, nowSeconds) => recountOwner(table, identity, nowSeconds),
    page: (recipient, nowSeconds) => deliveryPage(table, recipient, nowSeconds),
    remove: (recipient, refs) => removeAcked(table, recipient, refs),
    purge: (identity) => purgeMailbox(table, identity),
  };
}

/** The directory's view: purging, and closing the mailbox of a revoked or deleted identity. */
export function dynamoMailboxPurger(dynamo: DynamoDBDocumentClient, tableName: string) {
  return dynamoMailboxStore(dynamo, tableName);
}

export { type WaitingFigures, waitingFigures } from './mailbox/figures.ts';
