/**
 * Operator blocks, for abuse: reversible, unlike revocation. A blocked identity keeps its key,
 * links and revocation password, but every rule of the directory and the chat switch asks for an
 * `active` identity, so while it is blocked its owner gets what the owner of a revoked identity
 * gets — `not_found` (owner operations), a refused login, `revocation_failed` — and others see it
 * as unknown (lookups, matching, sends). Nothing tells anyone it is blocked rather than gone.
 */
import type { IdentityId } from '../../../protocol/identity.ts';
import type { DirectoryDeps } from './ports.ts';

/**
 * Blocks an active identity and ends its live chat sessions; false (nothing changed) when it is not
 * active: unknown, revoked, deleted or already blocked.
 */
export async function blockIdentity(
  deps: Pick<DirectoryDeps, 'identities' | 'mailbox' | 'sessions'>,
  identity: IdentityId,
): Promise<boolean> {
  if (!(await deps.identities.setBlocked(identity, true))) return false;
  // Its mailbox closes like a revoked one's (sends to it are refused as to an unknown identity),
  // but keeps what waits in it.
  await deps.sessions.closeAll(await deps.mailbox.close(identity));
  return true;
}

/** Lifts a block: the identity and its mailbox are active again as they were. False when it is not blocked. */
export async function unblockIdentity(
  deps: Pick<DirectoryDeps, 'identities' | 'mailbox'>,
  identity: IdentityId,
): Promise<boolean> {
  if (!(await deps.identities.setBlocked(identity, false))) return false;
  await deps.mailbox.reopen(identity);
  return true;
}
