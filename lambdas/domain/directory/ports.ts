/**
 * The directory's ports (storage, short-lived state, code delivery, mailbox and sessions) and the
 * values its operations take and return. No AWS imports: the adapters implement these.
 */
import type { ContactKind } from '../../../protocol/contacts.ts';
import type { Purpose } from '../../../protocol/directory-requests.ts';
import type { IdentityId, PublicKey } from '../../../protocol/identity.ts';
import type { PushTargetView } from '../../../protocol/push-targets.ts';
import type { Clock, Random } from '../clock.ts';

export interface RevocationSecret {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export interface IdentityRecord {
  readonly identity: IdentityId;
  /**
   * `blocked`: set and lifted by the operator (directory/blocking.ts). Every rule asks for `active`,
   * so to everyone else and to its owner a blocked identity is what a revoked one is: not found.
   */
  readonly state: 'active' | 'revoked' | 'blocked';
  /** Absent once revoked or deleted: a tombstone keeps only the id, so it is never issued again. */
  readonly publicKey?: PublicKey;
  readonly featureMask?: number;
  /** YYYY-MM-DD (UTC). */
  readonly issueDate?: string;
  /** YYYY-MM-DD (UTC): day granularity only. */
  readonly lastLogin?: string;
  readonly emailHash?: Uint8Array;
  readonly mobileNoHash?: Uint8Array;
  readonly revocation?: RevocationSecret;
}

export type IdentityChange =
  | { readonly featureMask: number }
  | { readonly lastLogin: string }
  | { readonly link: ContactKind; readonly hash: Uint8Array }
  | { readonly unlink: ContactKind }
  | { readonly revocation: RevocationSecret };

export interface IdentityStore {
  /** Creates the record unless the id exists; false on a collision. */
  create(record: IdentityRecord): Promise<boolean>;
  get(identity: IdentityId): Promise<IdentityRecord | undefined>;
  getMany(identities: readonly IdentityId[]): Promise<IdentityRecord[]>;
  /** Applies a change to an active identity; false when it is not (or no longer) active. */
  update(identity: IdentityId, change: IdentityChange): Promise<boolean>;
  /** Replaces the record by a tombstone (state revoked, nothing else). */
  tombstone(identity: IdentityId): Promise<void>;
  /**
   * Operator: moves an active identity to `blocked` (`blocked: true`) or a blocked one back to
   * `active`, keeping everything else; false when it was not in the state to move from.
   */
  setBlocked(identity: IdentityId, blocked: boolean): Promise<boolean>;
  /** Active identities linked to a contact hash (keyed index query, never a scan). */
  findByHash(kind: ContactKind, hash: Uint8Array): Promise<IdentityRecord[]>;
}

/**
 * The challenge key of one time slot, shared by every challenge issued in it: each request gets its
 * own token, tagged with a key derived from the slot's secret, so nothing is stored per challenge
 * request. The purpose, subject and parameters are bound by the signed request; single use by a
 * used-marker written once a proof is correct.
 */
export interface Challenge {
  readonly slot: number;
  readonly temporarySecret: Uint8Array;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export interface PendingLink {
  readonly identity: IdentityId;
  readonly kind: ContactKind;
  readonly hash: Uint8Array;
  readonly codeDigest: Uint8Array;
  readonly tries: number;
  readonly expiresAt: number;
}

/** Short-lived state (challenges, counters, invites, pending links), all with a TTL. */
export interface EphemeralStore {
  /** The slot's challenge: `candidate` if the slot had none yet, else the one stored first. */
  slotChallenge(candidate: Challenge): Promise<Challenge>;
  /** The slot's challenge, if one was issued (expired ones may still be returned: check expiresAt). */
  getChallenge(slot: number): Promise<Challenge | undefined>;
  /** Records that a proof or a work stamp was used; false if it was already (a replay). */
  markUsed(digest: Uint8Array, expiresAt: number): Promise<boolean>;
  /** Adds `amount` to a fixed-window counter; false (and nothing added) when it would pass `limit`. */
  consume(bucket: string, amount: number, limit: number, windowEndsAt: number): Promise<boolean>;
  /** A fixed-window counter's current count (0 when absent). */
  count(bucket: string): Promise<number>;
  putInvite(digest: Uint8Array, expiresAt: number): Promise<void>;
  /** Removes the invite atomically; false if it did not exist. */
  takeInvite(digest: Uint8Array): Promise<boolean>;
  putPendingLink(link: PendingLink): Promise<void>;
  getPendingLink(identity: IdentityId, kind: ContactKind): Promise<PendingLink | undefined>;
  /** Counts a wrong try; false when the link is gone. */
  failPendingLink(identity: IdentityId, kind: ContactKind): Promise<void>;
  deletePendingLink(identity: IdentityId, kind: ContactKind): Promise<void>;
}

/** Delivers verification codes (SES/SNS on AWS, the console locally), or is off. */
export interface CodeSender {
  readonly enabled: boolean;
  /** The kinds it delivers when enabled; all of them when absent. Other kinds answer not_supported. */
  readonly kinds?: readonly ContactKind[];
  send(kind: ContactKind, address: string, code: string): Promise<void>;
}

/** An identity's mailbox as the directory sees it: opened at registration, closed and purged at the end. */
export interface MailboxPurger {
  /** Makes the mailbox's owner record, so sends find the new identity with one read. */
  open(identity: IdentityId): Promise<void>;
  /**
   * Closes the mailbox for good (a revoked or deleted identity receives nothing more, and a login
   * racing the revocation can't reopen it); returns the connection ids of its live sessions.
   */
  close(identity: IdentityId): Promise<string[]>;
  /** Opens a closed mailbox again (an operator lifted a block). */
  reopen(identity: IdentityId): Promise<void>;
  /** Removes every message waiting for an identity. */
  purge(identity: IdentityId): Promise<void>;
}

/** Ends chat sessions, so a revoked or deleted identity is cut off at once. */
export interface SessionCloser {
  /** Closes these connections and forgets their records. */
  closeAll(connectionIds: readonly string[]): Promise<void>;
}

export type RegistrationPolicy = 'open' | 'invite';

export interface DirectoryDeps {
  readonly identities: IdentityStore;
  readonly ephemeral: EphemeralStore;
  readonly codes: CodeSender;
  readonly mailbox: MailboxPurger;
  readonly sessions: SessionCloser;
  readonly clock: Clock;
  readonly random: Random;
  readonly registration: RegistrationPolicy;
  /**
   * The identity's push targets, for the data export (`pushTokens`); purging the mailbox removes
   * them. Absent: the export lists none.
   */
  readonly pushTargets?: { list(identity: IdentityId): Promise<readonly PushTargetView[]> };
}

/** The request a challenge response covers: purpose, subject and the operation's parameters. */
export type SignedRequest = Readonly<Record<string, unknown>> & { readonly purpose: Purpose };

export interface Proof {
  readonly token: Uint8Array;
  readonly response: Uint8Array;
}

export interface LookupResult {
  readonly identity: IdentityId;
  readonly state: 0 | 2;
  readonly publicKey?: PublicKey;
  readonly featureMask?: number;
}

export interface Match {
  readonly identity: IdentityId;
  readonly publicKey: PublicKey;
  readonly kind: ContactKind;
  /** The hash (as sent) that matched, so the client can tell which contact it is. */
  readonly hash: Uint8Array;
}
