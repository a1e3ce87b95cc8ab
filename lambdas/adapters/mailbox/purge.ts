/**
 * Purging a whole mailbox (a revoked or deleted identity): its messages, and a quota counter from
 * before owner records. The owner record stays, closed (see owner.ts).
 */
import type { IdentityId } from '../../../protocol/identity.ts';
import { deletePartition } from '../partition.ts';
import { A, type MailboxTable, OWNER_KEY } from './table.ts';

export async function purgeMailbox(table: MailboxTable, identity: IdentityId): Promise<void> {
  await deletePartition(
    { ...table, partitionKey: A.recipient, sortKey: A.key },
    identity,
    (key) => key[A.key] === OWNER_KEY,
  );
}
