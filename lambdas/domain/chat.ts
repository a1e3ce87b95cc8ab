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
}

/** Session state on the connection records. Every transition is conditional on the state before. */
export interface SessionStore {
  get(connectionId: string): Promise<SessionRecord | undefined>;
  /** new → hello; false if the connection is unknown or already past `new`. */
  beginHandshake(connectionId: string, handshake: Handshake): Promise<boolean>;
  /** hello → ready, dropping the temporary secret; false if not in `hello`. */
  completeLogin(connectionId: string, identity: IdentityId, key: Uint8Array): Promise<boolean>;
  /** Any state → failed: a failed login can't be retried on the same connection. */
  fail(connectionId: string): Promise<void>;
  /** An identity's logged-in connections that have not expired (keyed index query). */
  liveSessions(identity: IdentityId, nowSeconds: number): Promise<LiveSession[]>;
  /** Forgets a connection that API Gateway reports gone (410). */
  remove(connectionId: string): Promise<void>;
  /** Connections still not logged in that connected before `connectedBefore` (ms), at most `limit`. */
  pendingBefore(connectedBefore: number, limit: number): Promise<string[]>;
}

export interface StoredMessage extends Delivery {
  readonly recipient: IdentityId;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export type StoreOutcome = 'stored' | 'duplicate' | 'mailbox_full' | 'rate_limited';

export interface MailboxStore {
  /**
   * Stores one copy per recipient in one transaction with the quota counters and the sender's rate
   * window: all or nothing. A copy that already exists (same sender, same id) is not stored again.
   */
  store(
    messages: readonly StoredMessage[],
    rate: { bucket: string; limit: number; windowEndsAt: number },
  ): Promise<StoreOutcome>;
  /** The oldest unexpired messages, in arrival order, within the page limits. */
  page(recipient: IdentityId, nowSeconds: number): Promise<{ messages: Delivery[]; more: boolean }>;
  /** Deletes acknowledged messages from the recipient's own mailbox; returns how many existed. */
  remove(recipient: IdentityId, refs: readonly MessageRef[]): Promise<number>;
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

  /** A `ready` session for a frame, or not_logged_in. */
  async function session(connectionId: string) {
    const record = await deps.sessions.get(connectionId);
    if (record?.state !== 'ready' || record.expiresAt < nowSeconds())
      throw new SwitchyardError('not_logged_in');
    return record;
  }

  /** Pushes a delivery to every live session of its recipient; forgets sessions that are gone. */
  async function pushTo(recipient: IdentityId, delivery: Delivery): Promise<number> {
    let sent = 0;
    for (const live of await deps.sessions.liveSessions(recipient, nowSeconds())) {
      const frame = sealFrame(
        'message',
        encodeDelivery(delivery),
        live.sessionKey,
        deps.random.bytes(NONCE_BYTES),
      );
      const outcome = await deps.pusher.push(live.connectionId, frame);
      if (outcome === 'sent') sent++;
      // 410 Gone: that recipient connection is stale. Never the sender's own connection.
      if (outcome === 'gone') await deps.sessions.remove(live.connectionId);
    }
    return sent;
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
      const today = new Date(deps.clock.now()).toISOString().slice(0, 10);
      if (owner.lastLogin !== today) await deps.identities.update(identity, { lastLogin: today });
      return { identity, sessionKey: key };
    },

    session,

    /** `send`: store (or, for no-queue messages, only push), ack the sender after the write, push. */
    async send(sender: IdentityId, request: SendRequest): Promise<SendResult> {
      const recipients = request.to.map((envelope) => envelope.identity);
      const records = new Map(
        (await deps.identities.getMany(recipients)).map((record) => [record.identity, record]),
      );
      if (recipients.some((identity) => records.get(identity)?.state !== 'active'))
        throw new SwitchyardError('unknown_recipient');

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

      if (request.flags & FLAGS.noQueue) {
        // Typing indicators and the like: delivered now or never, and never written anywhere.
        const results = [];
        for (const delivery of deliveries) {
          const sent = await pushTo(delivery.recipient, delivery);
          results.push({
            identity: delivery.recipient,
            status: sent > 0 ? ('pushed' as const) : ('dropped' as const),
          });
        }
        return { ack, results };
      }

      const ttlSeconds =
        request.flags & FLAGS.shortLived ? LIMITS.shortLivedSeconds : deps.messageTtlDays * 86_400;
      const expiresAt = epochSeconds(now) + ttlSeconds;
      const window = rateWindow('send', sender, 60, epochSeconds(now));
      const outcome = await deps.mailbox.store(
        deliveries.map((delivery) => ({ ...delivery, expiresAt })),
        { bucket: window.key, limit: LIMITS.sendsPerMinute, windowEndsAt: window.endsAt },
      );
      if (outcome === 'mailbox_full' || outcome === 'rate_limited') throw new SwitchyardError(outcome);
      // A retried send ('duplicate') is still unacked, or it would be gone: push it again. Its first
      // push may never have happened (a crash between store and push, or the write's answer lost on
      // every attempt); a recipient that has it already drops the copy by (sender, id).
      for (const delivery of deliveries) await pushTo(delivery.recipient, delivery);
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

    /** `ack`: delete delivered messages from one's own mailbox. */
    ack(recipient: IdentityId, refs: readonly MessageRef[]) {
      return deps.mailbox.remove(recipient, refs);
    },
  };
}

export type Chat = ReturnType<typeof createChat>;
