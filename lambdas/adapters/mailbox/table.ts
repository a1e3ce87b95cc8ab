/**
 * The mailbox table's item layout, shared by the operations in this folder.
 *
 *   recipient | key                        | seq (byArrival)     | sender, messageId, nonce, box, flags, sentAt, bytes, expiresAt
 *   ABCD1234  | m#EFGH5678#0011223344556677 | 0001763793600123#… |
 *   ABCD1234  | #owner                     |                     | active, sessions, count, bytes, recountedAt, heavy
 *
 * `seq` is set only on copies that wait for a pull (the index is sparse; see store.ts).
 * The owner record is described in owner.ts. (Mailboxes from before it may hold a `#counter` item,
 * no longer read; purging the mailbox removes it.)
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAILBOX } from '../../../contract/schema.ts';
import { toHex } from '../../../protocol/bytes.ts';

export const A = MAILBOX.attributes;
export const ARRIVAL_INDEX = MAILBOX.localIndexes[0].indexName;
const OWNER = '#owner';

export type Item = Record<string, unknown>;

/** The client and the physical table name every mailbox operation works on. */
export interface MailboxTable {
  readonly dynamo: DynamoDBDocumentClient;
  readonly name: string;
}

/** Sort key of a message: idempotent on sender + client message id. */
export function messageKey(sender: string, id: Uint8Array): string {
  return `m#${sender}#${toHex(id)}`;
}

/** Key of a mailbox's owner record. */
export function ownerKey(recipient: string): Item {
  return { [A.recipient]: recipient, [A.key]: OWNER };
}

/** The owner record's sort key, which purging a mailbox keeps. */
export const OWNER_KEY = OWNER;
