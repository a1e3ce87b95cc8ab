/**
 * The chat switch's rules: the authenticated handshake, and store-and-forward of end-to-end
 * encrypted messages with delete on delivery. No AWS imports; storage and pushes come in through
 * the ports below. Message boxes are opaque bytes: the server never holds a key to them.
 */
import {
  COOKIE_BYTES,
  type Delivery,
  encodeDelivery,
  FLAGS,
  IDENTITY_BYTES,
  LOGIN_PAYLOAD_BYTES,
  type MessageRef,
  NONCE_BYTES,
  type SendRequest,
  sealFrame,
  serverExpectedVouch,
  sessionKey,
} from '../../protocol/chat.ts';
import {
  boxOpenShared,
  boxSealShared,
  constantTimeEqual,
  generateKeyPair,
  type KeyPair,
  LowOrderKeyError,
  sharedKey,
} from '../../protocol/crypto.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { type IdentityId, isIdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { type Clock, epochSeconds, type Random } from './clock.ts';
import { type IdentityRecord, rateWindow } from './directory.ts';

export type { MessageRef, SendRequest };

// ─── Ports ──────────────────────────────────────────────────────────────────────────────────────

export interface Handshake {
  readonly serverTempSecret: Uint8Array;
  readonly clientTempPublic: Uint8Array;
  readonly serverCookie: Uint8Array;
}

export type SessionRecord =
  | { readonly state: 'new'; readonly connectedAt: number; readonly expiresAt: number }
  | ({ readonly state: 'hello'; readonly connectedAt: number; readonly expiresAt: number } & Handshake)
  | {
      readonly state: 'ready';
      readonly connectedAt: number;
      readonly expiresAt: number;
      readonly identity: IdentityId;
      readonly sessionKey: Uint8Array;
    }
  | { readonly state: 'failed'; readonly connectedAt: number; readonly expiresAt: number };

export interface LiveSession {
  readonly connectionId: string;
  readonly sessionKey: Uint8Array;
  /** Epoch seconds after which the session counts as gone. */
  readonly expiresAt: number;
}

/** A session frame's session: who sent it, and the key its answer is sealed with. */
export interface FrameSession {
  readonly identity: IdentityId;
  readonly sessionKey: Uint8Array;
}

/**
 * The outcome of accepting one session frame: its session, or why not. A replayed frame and a
 * rate-limited send still name the session, so the refusal can be sealed.
 */
export type FrameCheck =
  | { readonly ok: true; readonly session: FrameSession }
  | { readonly ok: false; readonly code: 'not_logged_in' }
  | { readonly ok: false; readonly code: 'replayed' | 'rate_limited'; readonly session: FrameSession };

/** Session state on the connection records. Every transition is conditional on the state before. */
export interface SessionStore {
  get(connectionId: string): Promise<SessionRecord | undefined>;
  /** new → hello; false if the connection is unknown or already past `new`. */
  beginHandshake(connectionId: string, handshake: Handshake): Promise<boolean>;
  /** hello → ready, dropping the temporary secret; false if not in `hello`. */
  completeLogin(connectionId: string, identity: IdentityId, key: Uint8Array): Promise<boolean>;
  /** Any state → failed: a failed login can't be retried on the same connection. */
  fail(connectionId: string): Promise<void>;
  /**
   * Accepts a session frame numbered `counter` in one conditional write: the session is ready and
   * unexpired, the counter is new (replay protection), and for a send, the connection is not
   * blocked by its identity's send rate.
   */
  frame(connectionId: string, counter: number, nowSeconds: number, send: boolean): Promise<FrameCheck>;
  /** Refuses the connection's sends until `untilSeconds`. */
  block(connectionId: string, untilSeconds: number): Promise<void>;
  /** Forgets a connection that API Gateway reports gone (410). */
  remove(connectionId: string): Promise<void>;
  /** Connections still not logged in that connected before `connectedBefore` (ms), at most `limit`. */
  pendingBefore(connectedBefore: number, limit: number): Promise<string[]>;
}

export interface StoredMessage extends Delivery {
  readonly recipient: IdentityId;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /**
   * The recipient had no live session to push to: the copy waits for a pull, so it goes into the
   * backlog's arrival order at once. A copy pushed to a live session does not (see `markWaiting`).
   */
  readonly waiting: boolean;
}

/** What a recount found: exact counters, and who holds a share of the mailbox if it is full. */
export interface MailboxCount {
  readonly count: number;
  readonly bytes: number;
  /** The senders holding their share of a full mailbox (refused while it is full). */
  readonly heavy: readonly IdentityId[];
}

/**
 * What one read of a mailbox's owner record tells a send. Its counters are approximate (sampled;
 * exact after a recount), `heavy` is what the last recount found.
 */
export interface OwnerState extends MailboxCount {
  /** False once the identity is revoked or deleted: it receives nothing. */
  readonly active: boolean;
  /** Its logged-in sessions, expired ones included (the reader filters by time). */
  readonly sessions: readonly LiveSession[];
}

export interface MailboxStore {
  /** The mailbox's owner record (a strongly consistent read), or undefined if it has none yet. */
  owner(identity: IdentityId): Promise<OwnerState | undefined>;
  /** Creates an active owner record for an identity that has none (a no-op if it exists). */
  open(identity: IdentityId): Promise<void>;
  /**
   * Adds a logged-in session to the owner record, dropping expired ones and, beyond
   * LIMITS.connectionsPerIdentity, the oldest (returned, to be closed). `joined` is false when the
   * mailbox is closed (revoked or deleted identity).
   */
  join(
    identity: IdentityId,
    session: LiveSession,
    nowSeconds: number,
  ): Promise<{ joined: boolean; evicted: string[] }>;
  /** Removes a session from the owner record. */
  leave(identity: IdentityId, connectionId: string): Promise<void>;
  /** Stores one copy, idempotent on (sender, id): a copy that exists is not stored again. */
  put(message: StoredMessage): Promise<'stored' | 'duplicate'>;
  /**
   * Puts a stored copy that no live session took into the backlog's arrival order (a no-op when it
   * is there already or gone).
   */
  markWaiting(recipient: IdentityId, sender: IdentityId, id: Uint8Array, sentAt: number): Promise<void>;
  /** Adds to the approximate quota counters. */
  addToCounters(identity: IdentityId, count: number, bytes: number): Promise<void>;
  /**
   * Recounts the mailbox from its unexpired messages and returns (and stores) the exact counters and
   * the senders holding a share (LIMITS.mailboxSenderShare) when it is full, or undefined when it was
   * recounted less than LIMITS.mailboxRecountSeconds ago.
   */
  recount(identity: IdentityId, nowSeconds: number): Promise<MailboxCount | undefined>;
  /**
   * The oldest unexpired waiting messages in arrival order, then (once those fit in the page) the
   * copies that were pushed to a live session but not acknowledged, within the page limits.
   */
  page(recipient: IdentityId, nowSeconds: number): Promise<{ messages: Delivery[]; more: boolean }>;
  /** Deletes acknowledged messages from the recipient's own mailbox (those that exist). */
  remove(recipient: IdentityId, refs: readonly MessageRef[]): Promise<void>;
}

/** The senders' rate windows (the directory's ephemeral table). */
export interface RateWindows {
  /** Counts `amount` into the window unless that would pass `limit`; false when it would. */
  consume(bucket: string, amount: number, limit: number, windowEndsAt: number): Promise<boolean>;
}

export type PushOutcome = 'sent' | 'gone' | 'failed';

export interface Pusher {
  push(connectionId: string, frame: string): Promise<PushOutcome>;
  /** Closes a connection (its `$disconnect` then runs); a gone one is fine. */
  disconnect(connectionId: string): Promise<void>;
}

export interface IdentityReader {
  get(identity: IdentityId): Promise<IdentityRecord | undefined>;
  getMany(identities: readonly IdentityId[]): Promise<IdentityRecord[]>;
  update(identity: IdentityId, change: { readonly lastLogin: string }): Promise<boolean>;
}

export interface ChatDeps {
  readonly sessions: SessionStore;
  readonly mailbox: MailboxStore;
  readonly rates: RateWindows;
  readonly pusher: Pusher;
  readonly identities: IdentityReader;
  readonly serverKey: () => Promise<KeyPair>;
  readonly clock: Clock;
  readonly random: Random;
  readonly messageTtlDays: number;
}

// ─── Rules ──────────────────────────────────────────────────────────────────────────────────────

export interface SendResult {
  /** The server ack, unless the sender asked for none (flag 0x04). */
  readonly ack: boolean;
  /** Per recipient: stored (queued until acked), or pushed / dropped for no-queue messages. */
  readonly results: ReadonlyArray<{ identity: IdentityId; status: 'queued' | 'pushed' | 'dropped' }>;
}

export function createChat(deps: ChatDeps) {
  const nowSeconds = () => epochSeconds(deps.clock.now());

  /**
   * Accepts session frame number `counter` on a connection: one conditional write (see
   * SessionStore.frame). A refusal that knows the session carries it, so it can be sealed.
   */
  function frame(connectionId: string, counter: number, send: boolean): Promise<FrameCheck> {
    return deps.sessions.frame(connectionId, counter, nowSeconds(), send);
  }

  /** A `ready` session for a frame that could not be parsed (to seal the error), or undefined. */
  async function sessionOf(connectionId: string): Promise<FrameSession | undefined> {
    const record = await deps.sessions.get(connectionId);
    if (record?.state !== 'ready' || record.expiresAt < nowSeconds()) return undefined;
    return { identity: record.identity, sessionKey: record.sessionKey };
  }

  /** One draw of the server's sampling: true once in LIMITS.quotaSampleEvery (it divides 256). */
  const drawn = () => deps.random.bytes(1)[0]! % LIMITS.quotaSampleEvery === 0;

  /** The sessions of an owner record that have not expired. */
  const liveSessions = (sessions: readonly LiveSession[]) => {
    const now = nowSeconds();
    return sessions.filter((session) => session.expiresAt > now);
  };

  /** Seals a delivery for each live session and pushes them at once; forgets sessions that are gone. */
  async function pushTo(recipient: IdentityId, sessions: readonly LiveSession[], delivery: Delivery) {
    const outcomes = await Promise.all(
      liveSessions(sessions).map(async (live) => {
        const frame = sealFrame(
          'message',
          encodeDelivery(delivery),
          live.sessionKey,
          deps.random.bytes(NONCE_BYTES),
        );
        const outcome = await deps.pusher.push(live.connectionId, frame);
        // 410 Gone: that recipient connection is stale. Never the sender's own connection.
        if (outcome === 'gone')
          await Promise.all([
            deps.mailbox.leave(recipient, live.connectionId),
            deps.sessions.remove(live.connectionId),
          ]);
        return outcome;
      }),
    );
    return outcomes.filter((outcome) => outcome === 'sent').length;
  }

  /**
   * One send in LIMITS.quotaSampleEvery, chosen by the server at random, counts that many into the
   * sender's window: the expected count is exact, and no sender can choose which sends count. A
   * refused sample blocks the connection's sends until the window ends, so the sends between
   * samples are refused too.
   */
  async function takeSendRate(sender: IdentityId, connectionId: string): Promise<void> {
    if (!drawn()) return;
    const window = rateWindow('send', sender, 60, nowSeconds());
    if (await deps.rates.consume(window.key, LIMITS.quotaSampleEvery, LIMITS.sendsPerMinute, window.endsAt))
      return;
    await deps.sessions.block(connectionId, window.endsAt);
    throw new SwitchyardError('rate_limited');
  }

  /**
   * The owner record of each recipient: unknown, revoked or deleted recipients refuse the send; an
   * identity that has no owner record yet (registered before owner records) gets one if it is active.
   */
  async function recipientStates(recipients: readonly IdentityId[]): Promise<Map<IdentityId, OwnerState>> {
    const states = new Map<IdentityId, OwnerState>();
    const found = await Promise.all(recipients.map((identity) => deps.mailbox.owner(identity)));
    const missing = recipients.filter((_, index) => !found[index]);
    recipients.forEach((identity, index) => {
      if (found[index]) states.set(identity, found[index]);
    });
    if (missing.length > 0) {
      const records = await deps.identities.getMany(missing);
      for (const identity of missing) {
        if (records.find((record) => record.identity === identity)?.state !== 'active')
          throw new SwitchyardError('unknown_recipient');
        await deps.mailbox.open(identity);
        const opened = await deps.mailbox.owner(identity);
        if (!opened) throw new SwitchyardError('unknown_recipient');
        states.set(identity, opened);
      }
    }
    for (const state of states.values()) if (!state.active) throw new SwitchyardError('unknown_recipient');
    return states;
  }

  /**
   * The mailbox quota, kept approximately: a mailbox whose counters say full is recounted (expired
   * and acked messages no longer count) at most every LIMITS.mailboxRecountSeconds. A full mailbox
   * refuses only the senders holding a share of it, as the last recount found them: a stranger who
   * fills someone's mailbox is refused, the owner's other contacts are not.
   */
  async function checkQuota(
    recipient: IdentityId,
    sender: IdentityId,
    state: OwnerState,
    boxBytes: number,
  ): Promise<void> {
    const fits = (count: number, bytes: number) =>
      count < LIMITS.mailboxMaxMessages && bytes + boxBytes <= LIMITS.mailboxMaxBytes;
    if (fits(state.count, state.bytes)) return;
    const exact = await deps.mailbox.recount(recipient, nowSeconds());
    if (exact && fits(exact.count, exact.bytes)) return;
    if ((exact ?? state).heavy.includes(sender)) throw new SwitchyardError('mailbox_full');
  }

  /** Counts stored messages into the sampled quota counters (one in LIMITS.quotaSampleEvery). */
  function countStored(recipient: IdentityId, boxBytes: number): Promise<void> {
    if (!drawn()) return Promise.resolve();
    const every = LIMITS.quotaSampleEvery;
    return deps.mailbox.addToCounters(recipient, every, every * boxBytes);
  }

  return {
    /** `hello`: answer with the server cookie and the temporary key, boxed from the long-term key. */
    async hello(connectionId: string, clientTempPublic: Uint8Array, clientCookie: Uint8Array) {
      const record = await deps.sessions.get(connectionId);
      if (
        record?.state !== 'new' ||
        record.connectedAt + LIMITS.loginTimeoutSeconds * 1000 < deps.clock.now()
      ) {
        throw new SwitchyardError('not_logged_in');
      }
      const temporary = generateKeyPair();
      const serverCookie = deps.random.bytes(COOKIE_BYTES);
      if (
        !(await deps.sessions.beginHandshake(connectionId, {
          serverTempSecret: temporary.secretKey,
          clientTempPublic,
          serverCookie,
        }))
      ) {
        throw new SwitchyardError('not_logged_in');
      }
      const server = await deps.serverKey();
      const nonce = deps.random.bytes(NONCE_BYTES);
      const content = new Uint8Array(temporary.publicKey.length + clientCookie.length);
      content.set(temporary.publicKey);
      content.set(clientCookie, temporary.publicKey.length);
      return {
        serverCookie,
        nonce,
        box: boxSealShared(content, nonce, sharedKey(clientTempPublic, server.secretKey)),
      };
    },

    /**
     * `login`: the box must open under this connection's temporary keys (so a login captured on
     * another connection fails), echo the server cookie, and carry a vouch that only the holder of
     * the identity's secret key can compute. Success yields the session key.
     */
    async login(connectionId: string, nonce: Uint8Array, box: Uint8Array) {
      const record = await deps.sessions.get(connectionId);
      if (
        record?.state !== 'hello' ||
        record.connectedAt + LIMITS.loginTimeoutSeconds * 1000 < deps.clock.now()
      ) {
        throw new SwitchyardError('not_logged_in');
      }
      const fail = async (): Promise<never> => {
        await deps.sessions.fail(connectionId);
        throw new SwitchyardError('login_failed');
      };
      const shared = sharedKey(record.clientTempPublic, record.serverTempSecret);
      let payload: Uint8Array;
      try {
        payload = boxOpenShared(box, nonce, shared);
      } catch {
        return fail();
      }
      if (payload.length !== LOGIN_PAYLOAD_BYTES) return fail();
      const identity = new TextDecoder().decode(payload.subarray(0, IDENTITY_BYTES));
      const cookie = payload.subarray(IDENTITY_BYTES, IDENTITY_BYTES + COOKIE_BYTES);
      const vouch = payload.subarray(IDENTITY_BYTES + COOKIE_BYTES);
      if (!isIdentityId(identity) || !constantTimeEqual(cookie, record.serverCookie)) return fail();
      const owner = await deps.identities.get(identity);
      if (owner?.state !== 'active' || !owner.publicKey) return fail();
      const server = await deps.serverKey();
      let expected: Uint8Array;
      try {
        expected = serverExpectedVouch(
          server.secretKey,
          record.serverTempSecret,
          owner.publicKey,
          record.serverCookie,
          record.clientTempPublic,
        );
      } catch (error) {
        // A small-order key (registered before the directory refused them) gives an all-zero
        // shared secret: anyone could compute its vouch, so it proves nothing.
        if (error instanceof LowOrderKeyError) return fail();
        throw error;
      }
      if (!constantTimeEqual(expected, vouch)) return fail();
      const key = sessionKey(record.clientTempPublic, record.serverTempSecret);
      if (!(await deps.sessions.completeLogin(connectionId, identity, key)))
        throw new SwitchyardError('not_logged_in');
      // Listed in the owner record, where sends find the session to push to. A mailbox closed
      // meanwhile (revoked or deleted identity) fails the login.
      const joined = await deps.mailbox.join(
        identity,
        { connectionId, sessionKey: key, expiresAt: record.expiresAt },
        nowSeconds(),
      );
      if (!joined.joined) return fail();
      await Promise.all(joined.evicted.map((evicted) => deps.pusher.disconnect(evicted)));
      const today = new Date(deps.clock.now()).toISOString().slice(0, 10);
      if (owner.lastLogin !== today) await deps.identities.update(identity, { lastLogin: today });
      return { identity, sessionKey: key };
    },

    frame,
    sessionOf,

    /**
     * `send` from `connectionId`: store one copy per recipient (or, for no-queue messages, only
     * push), then push to the recipients' live sessions. The server ack goes out after the writes.
     * Every send frame counts against the sender's rate, retries and no-queue sends included.
     */
    async send(sender: IdentityId, connectionId: string, request: SendRequest): Promise<SendResult> {
      const recipients = request.to.map((envelope) => envelope.identity);
      // Independent reads and the rate sample go out together.
      const [, states] = await Promise.all([takeSendRate(sender, connectionId), recipientStates(recipients)]);

      const now = deps.clock.now();
      const deliveries = request.to.map((envelope) => ({
        recipient: envelope.identity,
        sender,
        id: request.id,
        flags: request.flags,
        nonce: envelope.nonce,
        box: envelope.box,
        sentAt: now,
      }));
      const ack = (request.flags & FLAGS.noServerAck) === 0;
      const sessionsOf = (recipient: IdentityId) => states.get(recipient)!.sessions;

      if (request.flags & FLAGS.noQueue) {
        // Typing indicators and the like: delivered now or never, and never written anywhere.
        const sent = await Promise.all(
          deliveries.map((delivery) => pushTo(delivery.recipient, sessionsOf(delivery.recipient), delivery)),
        );
        return {
          ack,
          results: deliveries.map((delivery, index) => ({
            identity: delivery.recipient,
            status: sent[index]! > 0 ? ('pushed' as const) : ('dropped' as const),
          })),
        };
      }

      await Promise.all(
        deliveries.map((delivery) =>
          checkQuota(delivery.recipient, sender, states.get(delivery.recipient)!, delivery.box.length),
        ),
      );
      const ttlSeconds =
        request.flags & FLAGS.shortLived ? LIMITS.shortLivedSeconds : deps.messageTtlDays * 86_400;
      const expiresAt = epochSeconds(now) + ttlSeconds;
      // One conditional put per copy, all at once: no transaction. A copy that exists already (a
      // retried send) is not stored again. A copy for a recipient with a live session is pushed
      // and usually acked within moments: it stays out of the backlog's arrival index (an index
      // entry costs a write when stored and another when deleted) unless no push reaches it.
      const waiting = deliveries.map((delivery) => liveSessions(sessionsOf(delivery.recipient)).length === 0);
      const [stored] = await Promise.all([
        Promise.all(
          deliveries.map((delivery, index) =>
            deps.mailbox.put({ ...delivery, expiresAt, waiting: waiting[index]! }),
          ),
        ),
        Promise.all(deliveries.map((delivery) => countStored(delivery.recipient, delivery.box.length))),
      ]);
      // A retried send ('duplicate') is still unacked, or it would be gone: push it again. Its first
      // push may never have happened (a crash between store and push, or the write's answer lost on
      // every attempt); a recipient that has it already drops the copy by (sender, id).
      await Promise.all(
        deliveries.map(async (delivery, index) => {
          const sent = await pushTo(delivery.recipient, sessionsOf(delivery.recipient), delivery);
          // Nobody took it (every live session was gone or failed), or a retried copy may have
          // been stored for a session that is gone since: it waits for a pull, in arrival order.
          if (sent === 0 && (!waiting[index] || stored[index] === 'duplicate'))
            await deps.mailbox.markWaiting(delivery.recipient, sender, delivery.id, delivery.sentAt);
        }),
      );
      return {
        ack,
        results: deliveries.map((delivery) => ({ identity: delivery.recipient, status: 'queued' as const })),
      };
    },

    /** `pull`: the next page of the backlog; `more: false` is the "queue empty" marker. */
    pull(recipient: IdentityId) {
      return deps.mailbox.page(recipient, nowSeconds());
    },

    /**
     * The login deadline: closes connections that have not logged in within
     * LIMITS.loginTimeoutSeconds of connecting (run on a schedule). Returns how many it closed.
     */
    async reapUnauthenticated(): Promise<number> {
      const stale = await deps.sessions.pendingBefore(
        deps.clock.now() - LIMITS.loginTimeoutSeconds * 1000,
        500,
      );
      for (const connectionId of stale) {
        await deps.pusher.disconnect(connectionId);
        await deps.sessions.remove(connectionId);
      }
      return stale.length;
    },

    /**
     * `ack`: delete delivered messages from one's own mailbox. The quota counters are not touched:
     * they only grow, and a recount brings them down when they reach a limit.
     */
    ack(recipient: IdentityId, refs: readonly MessageRef[]) {
      return deps.mailbox.remove(recipient, refs);
    },
  };
}

export type Chat = ReturnType<typeof createChat>;
