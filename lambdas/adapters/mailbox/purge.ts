/** Purging a whole mailbox (a revoked or deleted identity): messages and counters alike. */
import type { IdentityId } from '../../../protocol/identity.ts';
import { deletePartition } from '../partition.ts';
import { A, type MailboxTable } from './table.ts';

export async function purgeMailbox(table: MailboxTable, identity: IdentityId): Promise<void> {
  await deletePartition({ ...table, partitionKey: A.recipient, sortKey: A.key }, identity);
}
