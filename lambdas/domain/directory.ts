/**
 * The directory's rules: anonymous identities bound to X25519 keys by proof of possession, lookups,
 * owner operations, revocation without the device, and contact matching. No AWS imports: storage,
 * rate limits and code delivery come in through the ports below.
 */
import { createHash, randomInt, scrypt } from 'node:crypto';
import { toHex } from '../../protocol/bytes.ts';
import { type ContactKind, contactHash, normaliseContact } from '../../protocol/contacts.ts';
import { constantTimeEqual, generateKeyPair } from '../../protocol/crypto.ts';
import { CHALLENGE_TOKEN_BYTES, expectedResponse } from '../../protocol/directory.ts';
import { OWNER_PURPOSES, type Purpose } from '../../protocol/directory-requests.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { type IdentityId, type PublicKey, randomIdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { type Clock, epochSeconds, type Random } from './clock.ts';

// Purposes are part of the wire protocol; re-exported for the domain's users.
export { OWNER_PURPOSES, type Purpose };

// ─── Ports ──────────────────────────────────────────────────────────────────────────────────────

export interface RevocationSecret {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export interface IdentityRecord {
  readonly identity: IdentityId;
  readonly state: 'active' | 'revoked';
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
  /** Active identities linked to a contact hash (keyed index query, never a scan). */
  findByHash(kind: ContactKind, hash: Uint8Array): Promise<IdentityRecord[]>;
}

export interface Challenge {
  readonly token: Uint8Array;
  readonly temporarySecret: Uint8Array;
  readonly purpose: Purpose;
  /** The public key (hex) for `create`, the identity for everything else. */
  readonly subject: string;
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
  putChallenge(challenge: Challenge): Promise<void>;
  /** Removes and returns the challenge atomically, so each one is answered at most once. */
  takeChallenge(token: Uint8Array): Promise<Challenge | undefined>;
  /** Adds `amount` to a fixed-window counter; false (and nothing added) when it would pass `limit`. */
  consume(bucket: string, amount: number, limit: number, windowEndsAt: number): Promise<boolean>;
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

/** Removes every message waiting for an identity. */
export interface MailboxPurger {
  purge(identity: IdentityId): Promise<void>;
}

/** Ends an identity's live chat sessions, so a revoked or deleted identity is cut off at once. */
export interface SessionCloser {
  closeAll(identity: IdentityId): Promise<void>;
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
}

// ─── Rules ──────────────────────────────────────────────────────────────────────────────────────

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

const DAY_SECONDS = 86_400;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Rate-limit windows name a digest of their subject, never the subject itself. */
export function rateWindow(
  scope: string,
  subject: string,
  windowSeconds: number,
  now: number,
): { key: string; endsAt: number } {
  const window = Math.floor(now / windowSeconds);
  const digest = createHash('sha256').update(subject).digest('hex').slice(0, 32);
  return { key: `${scope}:${digest}:${window}`, endsAt: (window + 1) * windowSeconds };
}

function scryptAsync(
  password: string,
  salt: Uint8Array,
  params: { N: number; r: number; p: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      32,
      { ...params, maxmem: 128 * params.N * params.r * 2 },
      (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))),
    ),
  );
}

export function createDirectory(deps: DirectoryDeps) {
  const nowSeconds = () => epochSeconds(deps.clock.now());

  async function limit(scope: string, subject: string, max: number, windowSeconds: number, amount = 1) {
    const { key, endsAt } = rateWindow(scope, subject, windowSeconds, nowSeconds());
    if (!(await deps.ephemeral.consume(key, amount, max, endsAt))) throw new SwitchyardError('rate_limited');
  }

  /** Consumes the challenge and checks the response; any mismatch is challenge_invalid or proof_invalid. */
  async function verify(proof: Proof, request: SignedRequest, subject: string, clientPublic: Uint8Array) {
    const challenge = await deps.ephemeral.takeChallenge(proof.token);
    if (
      !challenge ||
      challenge.expiresAt < nowSeconds() ||
      challenge.purpose !== request.purpose ||
      challenge.subject !== subject
    ) {
      throw new SwitchyardError('challenge_invalid');
    }
    const expected = expectedResponse(challenge.temporarySecret, clientPublic, challenge.token, request);
    if (!constantTimeEqual(expected, proof.response)) throw new SwitchyardError('proof_invalid');
  }

  async function activeOwner(identity: IdentityId): Promise<IdentityRecord & { publicKey: PublicKey }> {
    const record = await deps.identities.get(identity);
    if (record?.state !== 'active' || !record.publicKey) throw new SwitchyardError('not_found');
    return record as IdentityRecord & { publicKey: PublicKey };
  }

  /** Proves possession for an owner operation and returns the owner's record, last login updated. */
  async function authenticate(identity: IdentityId, proof: Proof, request: SignedRequest) {
    const owner = await activeOwner(identity);
    await verify(proof, request, identity, owner.publicKey);
    const today = utcDay(deps.clock.now());
    if (owner.lastLogin !== today) await deps.identities.update(identity, { lastLogin: today });
    return { ...owner, lastLogin: today };
  }

  /**
   * Revocation and deletion: a bare tombstone keeps the id from being issued again; the waiting
   * messages, live sessions and any pending address link go.
   */
  async function forget(identity: IdentityId): Promise<void> {
    await deps.identities.tombstone(identity);
    await deps.mailbox.purge(identity);
    await deps.sessions.closeAll(identity);
    for (const kind of ['email', 'phone'] as const) await deps.ephemeral.deletePendingLink(identity, kind);
  }

  async function lookupMany(identities: readonly IdentityId[]): Promise<LookupResult[]> {
    const unique = [...new Set(identities)];
    const records = new Map(
      (await deps.identities.getMany(unique)).map((record) => [record.identity, record]),
    );
    return unique.map((identity) => {
      const record = records.get(identity);
      if (record?.state !== 'active' || !record.publicKey) return { identity, state: 2 } as const;
      return {
        identity,
        state: 0,
        publicKey: record.publicKey,
        featureMask: record.featureMask ?? 0,
      } as const;
    });
  }

  return {
    /** Issues a single-use challenge for `purpose`, bound to a public key (create) or an identity. */
    async challenge(purpose: Purpose, subject: { publicKey: PublicKey } | { identity: IdentityId }) {
      const subjectText = 'publicKey' in subject ? toHex(subject.publicKey) : subject.identity;
      if ('identity' in subject) await activeOwner(subject.identity);
      await limit('challenge', subjectText, LIMITS.challengesPerHour, 3600);
      const temporary = generateKeyPair();
      const challenge: Challenge = {
        token: deps.random.bytes(CHALLENGE_TOKEN_BYTES),
        temporarySecret: temporary.secretKey,
        purpose,
        subject: subjectText,
        expiresAt: nowSeconds() + LIMITS.challengeTtlSeconds,
      };
      await deps.ephemeral.putChallenge(challenge);
      return {
        token: challenge.token,
        temporaryPublicKey: temporary.publicKey,
        expiresAt: challenge.expiresAt,
      };
    },

    /** Registers a public key under a new random identity, after proof of possession. */
    async create(
      input: { publicKey: PublicKey; featureMask: number; invite?: string },
      proof: Proof,
    ): Promise<IdentityId> {
      const request: SignedRequest = {
        purpose: 'create',
        publicKey: toHex(input.publicKey),
        featureMask: input.featureMask,
        invite: input.invite,
      };
      await verify(proof, request, toHex(input.publicKey), input.publicKey);
      if (deps.registration === 'invite') {
        const digest = input.invite ? createHash('sha256').update(input.invite).digest() : undefined;
        if (!digest || !(await deps.ephemeral.takeInvite(new Uint8Array(digest)))) {
          throw new SwitchyardError('invite_required');
        }
      } else {
        await limit('create', 'deployment', LIMITS.createsPerHour, 3600);
      }
      const today = utcDay(deps.clock.now());
      // 36^8 ≈ 2.8·10^12 ids: a collision is rare, and the conditional write makes it harmless.
      for (let attempt = 0; attempt < 5; attempt++) {
        const identity = randomIdentityId(deps.random.bytes);
        const created = await deps.identities.create({
          identity,
          state: 'active',
          publicKey: input.publicKey,
          featureMask: input.featureMask,
          issueDate: today,
          lastLogin: today,
        });
        if (created) return identity;
      }
      throw new SwitchyardError('unavailable');
    },

    /** One identity's public data; unknown, revoked and deleted identities are alike: not_found. */
    async lookup(identity: IdentityId): Promise<LookupResult> {
      const [result] = await lookupMany([identity]);
      if (result?.state !== 0) throw new SwitchyardError('not_found');
      return result;
    },

    /** Many identities at once, in request order (duplicates once); unknown, revoked and deleted ones are state 2. */
    lookupMany,

    async setFeatureMask(identity: IdentityId, featureMask: number, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'featureMask', identity, featureMask });
      if (!(await deps.identities.update(identity, { featureMask }))) throw new SwitchyardError('not_found');
    },

    /** Starts linking an address: sends a code to it. Only the hash is kept, and only once confirmed. */
    async link(identity: IdentityId, kind: ContactKind, address: string, proof: Proof): Promise<void> {
      if (!deps.codes.enabled || (deps.codes.kinds && !deps.codes.kinds.includes(kind)))
        throw new SwitchyardError('not_supported');
      const normalised = normaliseContact(kind, address);
      await authenticate(identity, proof, { purpose: 'link', identity, kind, address });
      await limit('code', identity, LIMITS.verificationCodesPerDay, DAY_SECONDS);
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await deps.ephemeral.putPendingLink({
        identity,
        kind,
        hash: contactHash(kind, normalised),
        codeDigest: new Uint8Array(createHash('sha256').update(code).digest()),
        tries: 0,
        expiresAt: nowSeconds() + LIMITS.verificationCodeTtlSeconds,
      });
      await deps.codes.send(kind, normalised, code);
    },

    /** Confirms a pending link with its code; the address's hash is stored, never the address. */
    async confirm(identity: IdentityId, kind: ContactKind, code: string, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'confirm', identity, kind, code });
      const pending = await deps.ephemeral.getPendingLink(identity, kind);
      if (!pending || pending.expiresAt < nowSeconds() || pending.tries >= LIMITS.verificationCodeTries) {
        throw new SwitchyardError('code_invalid');
      }
      const digest = new Uint8Array(createHash('sha256').update(code).digest());
      if (!constantTimeEqual(digest, pending.codeDigest)) {
        await deps.ephemeral.failPendingLink(identity, kind);
        throw new SwitchyardError('code_invalid');
      }
      await deps.ephemeral.deletePendingLink(identity, kind);
      if (!(await deps.identities.update(identity, { link: kind, hash: pending.hash })))
        throw new SwitchyardError('not_found');
    },

    async unlink(identity: IdentityId, kind: ContactKind, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'unlink', identity, kind });
      if (!(await deps.identities.update(identity, { unlink: kind }))) throw new SwitchyardError('not_found');
    },

    /** Stores a revocation password as salted scrypt, so the table alone reveals nothing cheaply. */
    async setRevocationPassword(identity: IdentityId, password: string, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'revocationPassword', identity, password });
      const salt = deps.random.bytes(16);
      const params = LIMITS.revocationScrypt;
      const hash = await scryptAsync(password, salt, params);
      if (!(await deps.identities.update(identity, { revocation: { salt, hash, ...params } }))) {
        throw new SwitchyardError('not_found');
      }
    },

    /** Everything stored about the owner, with Threema's `*MY3DATA` keys. */
    async export(identity: IdentityId, proof: Proof) {
      const record = await authenticate(identity, proof, { purpose: 'export', identity });
      return {
        identity: record.identity,
        publicKey: toHex(record.publicKey),
        issueDate: record.issueDate ?? null,
        lastLogin: record.lastLogin ?? null,
        mobileNoHash: record.mobileNoHash ? toHex(record.mobileNoHash) : null,
        emailHash: record.emailHash ? toHex(record.emailHash) : null,
        featureMask: record.featureMask ?? 0,
        pushTokens: [],
        revocationKey: record.revocation !== undefined,
      };
    },

    /** Deletes the identity: its messages and every stored field; a bare tombstone keeps the id unused. */
    async delete(identity: IdentityId, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'delete', identity });
      await forget(identity);
    },

    /** Revokes without the device, with the revocation password. Can only destroy, never use. */
    async revoke(identity: IdentityId, password: string): Promise<void> {
      // Counted before any work, right or wrong, so guessing costs the attacker the limit.
      await limit('revoke', identity, LIMITS.revocationAttemptsPerDay, DAY_SECONDS);
      const record = await deps.identities.get(identity);
      const secret = record?.state === 'active' ? record.revocation : undefined;
      // Unknown ids and ids without a password cost the same scrypt, so timing tells nothing.
      const params = secret ?? {
        ...LIMITS.revocationScrypt,
        salt: new Uint8Array(16),
        hash: new Uint8Array(32),
      };
      const hash = await scryptAsync(password, params.salt, params);
      if (!secret || !constantTimeEqual(hash, secret.hash)) throw new SwitchyardError('revocation_failed');
      await forget(identity);
    },

    /** Matches contact hashes against linked identities; the hashes are used here and forgotten. */
    async match(
      identity: IdentityId,
      hashes: { email: Uint8Array[]; phone: Uint8Array[] },
      proof: Proof,
    ): Promise<Match[]> {
      const count = hashes.email.length + hashes.phone.length;
      await authenticate(identity, proof, {
        purpose: 'match',
        identity,
        emailHashes: hashes.email.map(toHex),
        phoneHashes: hashes.phone.map(toHex),
      });
      await limit('match', identity, LIMITS.matchHashesPerDay, DAY_SECONDS, count);
      const matches: Match[] = [];
      for (const kind of ['email', 'phone'] as const) {
        for (const hash of hashes[kind]) {
          for (const record of await deps.identities.findByHash(kind, hash)) {
            if (record.state === 'active' && record.publicKey && record.identity !== identity) {
              matches.push({ identity: record.identity, publicKey: record.publicKey, kind, hash });
            }
          }
        }
      }
      return matches;
    },

    /** Operator: issues an invite token (returned once; only its digest is stored). */
    createInvite: (): Promise<string> => issueInvite(deps),
  };
}

/**
 * Operator: issues an invite token (returned once; only its SHA-256 is stored, for
 * LIMITS.inviteTtlDays). Needs only the ephemeral store, so the operator's CLI issues invites
 * through this very function, straight to the table.
 */
export async function issueInvite(
  deps: Pick<DirectoryDeps, 'ephemeral' | 'clock' | 'random'>,
): Promise<string> {
  const token = toHex(deps.random.bytes(16));
  const digest = new Uint8Array(createHash('sha256').update(token).digest());
  await deps.ephemeral.putInvite(digest, epochSeconds(deps.clock.now()) + LIMITS.inviteTtlDays * DAY_SECONDS);
  return token;
}

export type Directory = ReturnType<typeof createDirectory>;
