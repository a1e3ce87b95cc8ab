/**
 * Acknowledged messages: plain batched deletes, no read first. The quota counters are not lowered
 * here (they are approximate and only grow; a recount brings them down when they reach a limit).
 */
import type { IdentityId } from '../../../protocol/identity.ts';
import type { MessageRef } from '../../domain/chat.ts';
import { deleteKeys } from '../partition.ts';
import { A, type MailboxTable, messageKey } from './table.ts';

/** Deletes `refs` from the recipient's mailbox; deleting one that is gone already is no error. */
export async function removeAcked(
  table: MailboxTable,
  recipient: IdentityId,
  refs: readonly MessageRef[],
): Promise<void> {
  const unique = [...new Set(refs.map((ref) => messageKey(ref.sender, ref.id)))];
  await deleteKeys(
    table,
    unique.map((key) => ({ [A.recipient]: recipient, [A.key]: key })),
  );
}
