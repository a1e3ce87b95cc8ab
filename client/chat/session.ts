/**
 * A chat session: the authenticated handshake against a pinned server key, end-to-end encrypted
 * send and receive, deduplication, batched acks, keep-alive, and automatic reconnect with resume.
 *
 *   const session = new ChatSession({ url, serverPublicKey, identity, keys, publicKeyOf });
 *   session.onMessage = (message) => console.log(message.sender, new TextDecoder().decode(message.body));
 *                                            // acked (deleted on the server) once this returns
 *   await session.connect();                 // handshake, then the backlog until "queue empty"
 *   await session.send('ABCD1234', new TextEncoder().encode('hi'));
 *
 * Message bodies are NaCl boxes from the sender's identity key to the recipient's; shared keys are
 * computed once per peer. The server sees recipients, sizes and timing, never content.
 *
 * This file keeps the connection's life (connect, keep-alive, reconnect, close) and routes frames;
 * the pieces it drives are next to it: handshake.ts, frames.ts, outbox.ts (sends awaiting their
 * ack), acks.ts (batched acks) and inbound.ts (peer keys, opening and deduplicating messages).
 */
import {
  b64,
  FLAGS,
  MESSAGE_ID_BYTES,
  NONCE_BYTES,
  openFrame,
  sealedFrameBytes,
  sendFrameBytes,
} from '../../protocol/chat.ts';
import { boxSealShared, type KeyPair, randomBytes } from '../../protocol/crypto.ts';
import { KEEP_ALIVE_MS, LIMITS } from '../../protocol/limits.ts';
import { AckBatcher } from './acks.ts';
import { FrameChannel, parseFrame } from './frames.ts';
import { clientHandshake } from './handshake.ts';
import { Inbound, PeerKeys } from './inbound.ts';
import { Outbox } from './outbox.ts';
import { defaultSocket, type SocketLike } from './socket.ts';
import { ChatError, type ReceivedMessage, type SendResult } from './types.ts';

export type { SocketLike } from './socket.ts';
export { ChatError, type ReceivedMessage, type SendResult } from './types.ts';

/** What an `onMessage` handler answers: `false` refuses the message (it is not acked). */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing accepts the message.
export type MessageAcceptance = boolean | undefined | void;

export interface ChatSessionOptions {
  /** The WebSocket URL (`wss://…/ws`, or `ws://127.0.0.1:8080/ws` locally). */
  readonly url: string;
  /**
   * The server's long-term public key, pinned: the handshake fails against any other server. During
   * a key rotation, pin the current and the next key (a list): either one may answer.
   */
  readonly serverPublicKey: Uint8Array | readonly Uint8Array[];
  readonly identity: string;
  /** The identity's key pair (from the identity file). */
  readonly keys: KeyPair;
  /** Resolves a peer's public key (from the directory); results are cached. */
  readonly publicKeyOf: (identity: string) => Promise<Uint8Array>;
  /** Opens a socket (default: the global WebSocket, else the `ws` package). */
  readonly createSocket?: (url: string) => Promise<SocketLike>;
  /** Keep-alive interval (ms): API Gateway closes connections idle for 10 minutes. Default 9 minutes. */
  readonly keepAliveMs?: number;
  /** Acks are sent when this many are waiting or after ackDelayMs (default 50 / 200 ms). */
  readonly ackBatch?: number;
  readonly ackDelayMs?: number;
  /** How long `close` waits for the answers to the last acks (default 2000 ms). */
  readonly closeAckWaitMs?: number;
  /**
   * Whether this session takes delivery of messages (default true). A send-only session (`false`)
   * never pulls, ignores pushed messages and acks nothing: what waits for the identity stays on
   * the server for a session that receives (e.g. `switchyard send` while `listen` runs elsewhere).
   */
  readonly receive?: boolean;
  /** Reconnect after an unexpected close (default true), with backoff up to reconnectMaxMs. */
  readonly reconnect?: boolean;
  readonly reconnectMaxMs?: number;
}

export class ChatSession {
  /**
   * Called for every new message (duplicates are dropped before). The message is acked, which
   * deletes it on the server, only once this returns (or its promise resolves) with anything but
   * `false`. Returning `false` or throwing refuses it: it is not acked, stays on the server and
   * comes again at a later delivery (the next login at the latest). Without a handler, nothing is
   * accepted.
   */
  onMessage: ((message: ReceivedMessage) => MessageAcceptance | Promise<MessageAcceptance>) | undefined;
  /** Called when the backlog has been delivered after (re)connecting: the "queue empty" marker. */
  onQueueEmpty: () => void = () => {};
  /** Called when the connection drops and the session starts reconnecting. */
  onDisconnect: (code: number) => void = () => {};

  private readonly options: ChatSessionOptions;
  private readonly channel = new FrameChannel();
  private readonly peers: PeerKeys;
  private readonly inbound: Inbound;
  private readonly outbox = new Outbox((frame) => {
    if (this.channel.ready) this.channel.raw(frame());
  });
  private readonly acks: AckBatcher;
  private closedByUser = false;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Requests awaiting their answer (see `request`), by request id. */
  private readonly requests = new Map<
    string,
    { readonly error: string; resolve(payload: Record<string, unknown>): void; reject(error: Error): void }
  >();
  private readonly replyActions = new Set<string>();

  constructor(options: ChatSessionOptions) {
    this.options = options;
    this.peers = new PeerKeys(options.publicKeyOf, options.keys.secretKey);
    this.acks = new AckBatcher(
      {
        ready: () => this.channel.ready,
        send: (batch, reply) =>
          this.channel.sessionFrame('ack', reply ? { messages: batch, reply } : { messages: batch }),
      },
      options.ackBatch,
      options.ackDelayMs,
    );
    this.inbound = new Inbound(this.peers);
  }

  /**
   * Connects, logs in and delivers the backlog; resolves once the queue is empty (or, for a
   * send-only session, once logged in).
   */
  async connect(): Promise<void> {
    this.closedByUser = false;
    const socket = await (this.options.createSocket ?? defaultSocket)(this.options.url);
    this.channel.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new ChatError('unreachable', 'Could not connect to the chat server.'));
      socket.onclose = () => reject(new ChatError('unreachable', 'The chat server closed the connection.'));
    });
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => this.closed(event.code);
    socket.onerror = () => {};
    try {
      this.channel.key = undefined;
      this.channel.key = await clientHandshake(this.channel, this.options);
    } catch (error) {
      this.closedByUser = true;
      socket.close();
      throw error;
    }
    this.keepAlive = setInterval(
      () => this.channel.raw({ action: 'echo' }),
      this.options.keepAliveMs ?? KEEP_ALIVE_MS,
    );
    // Sends that were waiting for an ack when the connection dropped go out again: same id, so
    // the server stores them once.
    this.outbox.restart();
    if (this.options.receive !== false) await this.drainQueue();
  }

  /**
   * Closes the session for good. Acks still waiting are sent first, and their answers awaited (up to
   * `closeAckWaitMs`): the server handles frames concurrently, so a disconnect that overtook an ack
   * would make it refuse the ack, and the message would come again at the next login.
   */
  async close(): Promise<void> {
    this.closedByUser = true;
    this.acks.replies = true;
    this.acks.flush();
    clearInterval(this.keepAlive);
    if (this.acks.waiting) await this.acks.settled(this.options.closeAckWaitMs ?? 2_000);
    this.channel.socket?.close(1000);
    this.outbox.rejectAll(new ChatError('closed', 'The session was closed.'));
  }

  /**
   * Sends `body` end-to-end encrypted to one or more recipients (one box each). Resolves on the
   * server ack, i.e. once the server has stored it (or pushed it, for no-queue messages). `id` is
   * the message id (8 random bytes by default): pass one to know it before the ack arrives.
   *
   * Rejects with ChatError `too_large`, sending nothing, when the frame would exceed
   * LIMITS.wsFrameBytes (API Gateway would close the connection, and a retry would fail the same
   * way): `maxSendBodyBytes(recipients, flags)` in protocol/chat.ts is the largest body that fits.
   */
  async send(
    to: string | readonly string[],
    body: Uint8Array,
    flags = 0,
    id: Uint8Array = randomBytes(MESSAGE_ID_BYTES),
  ): Promise<SendResult> {
    const recipients = typeof to === 'string' ? [to] : [...to];
    if (sendFrameBytes(body.length, recipients.length, flags) > LIMITS.wsFrameBytes)
      throw new ChatError('too_large', 'The message is too large for one frame; nothing was sent.');
    const envelopes = await Promise.all(
      recipients.map(async (identity) => {
        const nonce = randomBytes(NONCE_BYTES);
        return {
          identity,
          nonce: b64(nonce),
          box: b64(boxSealShared(body, nonce, await this.peers.shared(identity))),
        };
      }),
    );
    const payload = { id: b64(id), flags, to: envelopes };
    // Acks waiting for their batch ride along (sealed when the frame goes out, resent or not).
    const withAcks = () => {
      const ack = this.acks.takeForSend(
        (batch) => sealedFrameBytes('send', { ...payload, ack: batch }) <= LIMITS.wsFrameBytes,
      );
      return ack ? { ...payload, ack } : payload;
    };
    if (flags & FLAGS.noServerAck) {
      this.channel.sessionFrame('send', withAcks());
      return { id, results: [] };
    }
    return this.outbox.add(b64(id), () => this.channel.seal('send', withAcks()));
  }

  /**
   * Sends a session frame `action` whose payload carries a request id (`payload.id`) and resolves
   * with the payload of the answer `reply` that echoes it; rejects with ChatError(code) when the
   * answer is `error` {id, code}, and with ChatError `timeout` after `timeoutMs`. Used by the media
   * blob routes (client/media/client.ts). Not queued across reconnects: the caller asks again.
   */
  request(
    action: string,
    payload: { readonly id: string } & Record<string, unknown>,
    answers: { readonly reply: string; readonly error: string },
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    if (!this.channel.ready)
      return Promise.reject(new ChatError('unreachable', 'The session is not connected.'));
    this.replyActions.add(answers.reply).add(answers.error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(payload.id);
        reject(new ChatError('timeout', 'The chat server did not answer in time.'));
      }, timeoutMs);
      const settle = (then: () => void) => {
        clearTimeout(timer);
        this.requests.delete(payload.id);
        then();
      };
      this.requests.set(payload.id, {
        error: answers.error,
        resolve: (answer) => settle(() => resolve(answer)),
        reject: (error) => settle(() => reject(error)),
      });
      this.channel.sessionFrame(action, payload);
    });
  }

  /** Pulls pages until the server says the queue is empty. */
  private async drainQueue(): Promise<void> {
    // Acks sent while draining ask for an answer: the next pull waits for it (see acks.ts).
    this.acks.replies = true;
    try {
      await this.drainPages();
    } finally {
      this.acks.replies = false;
    }
    this.onQueueEmpty();
  }

  private async drainPages(): Promise<void> {
    for (;;) {
      this.channel.sessionFrame('pull', {});
      const page = await this.channel.next(['queue']);
      const payload = openFrame(page.fields, this.channel.key!);
      let acked = 0;
      for (const message of payload.messages as Record<string, unknown>[])
        if (await this.deliver(message)) acked++;
      if (!payload.more) break;
      // Acks free the next page: the server pages from the oldest unacked message. If nothing of
      // the page was acked (the application refused it all), the next pull would return it again:
      // stop here, and the refused messages come again at the next login. (Counted here, not by
      // what flush() sends now: a full batch or the ack timer may have sent some already.)
      if (acked === 0) break;
      this.acks.flush();
      await this.channel.next(['acked']);
    }
  }

  private receive(text: string): void {
    const frame = parseFrame(text);
    if (!frame) return;
    const { action, fields } = frame;
    if (this.channel.key && (action === 'message' || action === 'sendAck' || action === 'sendError')) {
      void this.onSessionFrame(action, fields).catch(() => {});
      return;
    }
    if (this.channel.key && this.replyActions.has(action)) {
      const answer = openFrame(fields, this.channel.key);
      const waiting = this.requests.get(String(answer.id));
      if (action === waiting?.error) waiting.reject(new ChatError(String(answer.code)));
      else waiting?.resolve(answer);
      return;
    }
    if (action === 'echo') return;
    if ((action === 'acked' || action === 'error') && this.acks.waiting) this.acks.answered();
    // Answers to acks sent outside the backlog drain are not awaited by anyone.
    if (!this.channel.awaited && (action === 'acked' || action === 'error')) return;
    this.channel.offer(frame);
  }

  private async onSessionFrame(action: 'message' | 'sendAck' | 'sendError', fields: Record<string, unknown>) {
    const payload = openFrame(fields, this.channel.key!);
    if (action === 'message') {
      // A send-only session takes no delivery: the push is left for a session that receives.
      if (this.options.receive !== false) await this.deliver(payload);
      return;
    }
    this.outbox.settle(action, payload);
  }

  /**
   * Hands a delivered message to the application and acks it only if the application accepted it
   * (or accepted it before: a duplicate). A box that does not open is acked and dropped: no
   * later delivery could open it. A message whose sender key cannot be had now, or that the
   * application refused, is not acked: it stays on the server. No-queue messages are never acked.
   */
  /** Hands one delivery to the application; true when it is acked (accepted, or not for the app). */
  private async deliver(delivery: Record<string, unknown>): Promise<boolean> {
    const ack = () => {
      if (!(Number(delivery.flags) & FLAGS.noQueue))
        this.acks.add(String(delivery.sender), String(delivery.id));
      return true;
    };
    let opened: Awaited<ReturnType<Inbound['open']>>;
    try {
      opened = await this.inbound.open(delivery);
    } catch {
      return false;
    }
    if (opened.kind !== 'new') return ack();
    const handler = this.onMessage;
    if (!handler) return false;
    try {
      if ((await handler(opened.message)) === false) return false;
    } catch {
      return false;
    }
    this.inbound.accepted(opened.message);
    return ack();
  }

  private closed(code: number): void {
    clearInterval(this.keepAlive);
    this.channel.key = undefined;
    // Answers to acks on the lost socket will not come; the messages come again after a reconnect.
    this.acks.answered(true);
    if (this.closedByUser || this.options.reconnect === false) return;
    this.onDisconnect(code);
    void this.reconnect();
  }

  /** Reconnects with exponential backoff; unacked messages are simply delivered again. */
  private async reconnect(): Promise<void> {
    let delay = 250;
    while (!this.closedByUser) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.closedByUser) return;
      try {
        await this.connect();
        return;
      } catch {
        delay = Math.min(delay * 2, this.options.reconnectMaxMs ?? 30_000);
      }
    }
  }
}
