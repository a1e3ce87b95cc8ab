/**
 * The directory's rules: anonymous identities bound to X25519 keys by proof of possession, lookups,
 * owner operations, revocation without the device, and contact matching. No AWS imports: storage,
 * rate limits and code delivery come in through the ports (directory/ports.ts).
 *
 * One file per reason to change, composed here into the one Directory the runtime builds:
 *
 *   directory/proofs.ts        challenges, proofs, rate-limit windows, owner authentication
 *   directory/registration.ts  new identities (open or by invite) and operator invites
 *   directory/owner.ts         feature mask, address linking, revocation password, export, delete
 *   directory/revocation.ts    revocation without the device; the tombstone revoke and delete share
 *   directory/lookup.ts        public lookups and contact matching
 *   directory/blocking.ts      operator blocks (reversible; the operator's tools call them)
 */
import { OWNER_PURPOSES, type Purpose } from '../../protocol/directory-requests.ts';
import { createLookups } from './directory/lookup.ts';
import { createOwnerOperations } from './directory/owner.ts';
import type { DirectoryDeps } from './directory/ports.ts';
import { createGuards } from './directory/proofs.ts';
import { createRegistration } from './directory/registration.ts';
import { createRevocation } from './directory/revocation.ts';

export { blockIdentity, unblockIdentity } from './directory/blocking.ts';
export type {
  Challenge,
  CodeSender,
  DirectoryDeps,
  EphemeralStore,
  IdentityChange,
  IdentityRecord,
  IdentityStore,
  LookupResult,
  MailboxPurger,
  Match,
  PendingLink,
  Proof,
  RegistrationPolicy,
  RevocationSecret,
  SessionCloser,
  SignedRequest,
} from './directory/ports.ts';
export { rateWindow, utcDay } from './directory/proofs.ts';
export { issueInvite } from './directory/registration.ts';
// Purposes are part of the wire protocol; re-exported for the domain's users.
export { OWNER_PURPOSES, type Purpose };

export function createDirectory(deps: DirectoryDeps) {
  const guards = createGuards(deps);
  return {
    challenge: guards.challenge,
    ...createRegistration(deps, guards),
    ...createLookups(deps, guards),
    ...createOwnerOperations(deps, guards),
    ...createRevocation(deps, guards),
  };
}

export type Directory = ReturnType<typeof createDirectory>;
