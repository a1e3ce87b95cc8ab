/**
 * A chat session: the authenticated handshake against a pinned server key, end-to-end encrypted
 * send and receive, deduplication, batched acks, keep-alive, and automatic reconnect with resume.
 *
 *   const session = new ChatSession({ url, serverPublicKey, identity, keys, publicKeyOf });
 *   session.onMessage = (message) => console.log(message.sender, new TextDecoder().decode(message.body));
 *   await session.connect();                 // handshake, then the backlog until "queue empty"
 *   await session.send('ABCD1234', new TextEncoder().encode('hi'));
 *
 * Message bodies are NaCl boxes from the sender's identity key to the recipient's; shared keys are
 * computed once per peer. The server sees recipients, sizes and timing, never content.
 */
import {
  b64,
  COOKIE_BYTES,
  clientVouch,
  FLAGS,
  fromB64,
  MESSAGE_ID_BYTES,
  NONCE_BYTES,
  openFrame,
  sealFrame,
  sessionKey,
} from '../../protocol/chat.ts';
import {
  boxOpenShared,
  boxSealShared,
  generateKeyPair,
  type KeyPair,
  randomBytes,
  sharedKey,
} from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';

/** The minimal WebSocket surface the session needs (the browser's and the `ws` package's). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number): void;
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface ReceivedMessage {
  readonly sender: string;
  readonly id: Uint8Array;
  readonly flags: number;
  readonly body: Uint8Array;
  /** Server arrival time, ms since the epoch. */
  readonly sentAt: number;
}

export interface SendResult {
  readonly id: Uint8Array;
  /** Per recipient: queued (stored until acked), pushed or dropped (no-queue messages). */
  readonly results: ReadonlyArray<{ identity: string; status: 'queued' | 'pushed' | 'dropped' }>;
}

export class ChatError extends Error {
  constructor(
    readonly code: string,
    message = `The server refused: ${code}`,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

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
  /** Keep-alive interval (ms): API Gateway closes connections idle for 10 minutes. Default 60 s. */
  readonly keepAliveMs?: number;
  /** Acks are sent when this many are waiting or after ackDelayMs (default 50 / 200 ms). */
  readonly ackBatch?: number;
  readonly ackDelayMs?: number;
  /** How long `close` waits for the answers to the last acks (default 2000 ms). */
  readonly closeAckWaitMs?: number;
  /** Reconnect after an unexpected close (default true), with backoff up to reconnectMaxMs. */
  readonly reconnect?: boolean;
  readonly reconnectMaxMs?: number;
}

async function defaultSocket(url: string): Promise<SocketLike> {
  const Native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Native) return new Native(url);
  const { default: WebSocket } = await import('ws');
  return new WebSocket(url) as unknown as SocketLike;
}

const OPEN = 1;

function key(sender: string, id: Uint8Array): string {
  return `${sender}:${b64(id)}`;
}

interface Pending {
  readonly frame: () => string;
  resolve(result: SendResult): void;
  reject(error: Error): void;
}

export class ChatSession {
  /** Called for every new message (duplicates are dropped before). */
  onMessage: (message: ReceivedMessage) => void = () => {};
  /** Called when the backlog has been delivered after (re)connecting: the "queue empty" marker. */
  onQueueEmpty: () => void = () => {};
  /** Called when the connection drops and the session starts reconnecting. */
  onDisconnect: (code: number) => void = () => {};

  private readonly options: ChatSessionOptions;
  private socket: SocketLike | undefined;
  private session: Uint8Array | undefined;
  private closedByUser = false;
  private readonly peers = new Map<string, Promise<Uint8Array>>();
  private readonly seen = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private ackQueue: { sender: string; id: string }[] = [];
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /** Ack frames sent on this socket whose answer has not come yet, and who waits for them. */
  private acksInFlight = 0;
  private acksAnswered: (() => void)[] = [];
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private waiting: ((frame: { action: string; fields: Record<string, unknown> }) => void) | undefined;
  private readonly inbox: { action: string; fields: Record<string, unknown> }[] = [];

  constructor(options: ChatSessionOptions) {
    this.options = options;
  }

  /** Connects, logs in and delivers the backlog; resolves once the queue is empty. */
  async connect(): Promise<void> {
    this.closedByUser = false;
    const socket = await (this.options.createSocket ?? defaultSocket)(this.options.url);
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new ChatError('unreachable', 'Could not connect to the chat server.'));
      socket.onclose = () => reject(new ChatError('unreachable', 'The chat server closed the connection.'));
    });
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onclose = (event) => this.closed(event.code);
    socket.onerror = () => {};
    try {
      await this.handshake();
    } catch (error) {
      this.closedByUser = true;
      socket.close();
      throw error;
    }
    this.keepAlive = setInterval(() => this.raw({ action: 'echo' }), this.options.keepAliveMs ?? 60_000);
    // Sends that were waiting for an ack when the connection dropped go out again: same id, so
    // the server stores them once.
    for (const pending of this.pending.values()) this.raw(pending.frame());
    await this.drainQueue();
  }

  /**
   * Closes the session for good. Acks still waiting are sent first, and their answers awaited (up to
   * `closeAckWaitMs`): the server handles frames concurrently, so a disconnect that overtook an ack
   * would make it refuse the ack, and the message would come again at the next login.
   */
  async close(): Promise<void> {
    this.closedByUser = true;
    this.flushAcks();
    clearInterval(this.keepAlive);
    if (this.acksInFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.closeAckWaitMs ?? 2_000);
        this.acksAnswered.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.socket?.close(1000);
    for (const pending of this.pending.values())
      pending.reject(new ChatError('closed', 'The session was closed.'));
    this.pending.clear();
  }

  /**
   * Sends `body` end-to-end encrypted to one or more recipients (one box each). Resolves on the
   * server ack, i.e. once the server has stored it (or pushed it, for no-queue messages). `id` is
   * the message id (8 random bytes by default): pass one to know it before the ack arrives.
   */
  async send(
    to: string | readonly string[],
    body: Uint8Array,
    flags = 0,
    id: Uint8Array = randomBytes(MESSAGE_ID_BYTES),
  ): Promise<SendResult> {
    const recipients = typeof to === 'string' ? [to] : [...to];
    const envelopes = await Promise.all(
      recipients.map(async (identity) => {
        const nonce = randomBytes(NONCE_BYTES);
        return {
          identity,
          nonce: b64(nonce),
          box: b64(boxSealShared(body, nonce, await this.shared(identity))),
        };
      }),
    );
    const payload = { id: b64(id), flags, to: envelopes };
    if (flags & FLAGS.noServerAck) {
      this.sessionFrame('send', payload);
      return { id, results: [] };
    }
    return new Promise<SendResult>((resolve, reject) => {
      const pending: Pending = { frame: () => this.seal('send', payload), resolve, reject };
      this.pending.set(b64(id), pending);
      if (this.session && this.socket?.readyState === OPEN) this.raw(pending.frame());
    });
  }

  // ─── Handshake ────────────────────────────────────────────────────────────────────────────────

  private async handshake(): Promise<void> {
    const temporary = generateKeyPair();
    const clientCookie = randomBytes(COOKIE_BYTES);
    this.session = undefined;
    this.raw({ action: 'hello', key: b64(temporary.publicKey), cookie: b64(clientCookie) });
    const hello = await this.next(['hello', 'error']);
    if (hello.action === 'error') throw new ChatError(String(hello.fields.code));
    // Only the holder of a pinned server key can make this box; the vouch names the key that did.
    const { content, serverPublicKey } = openServerHello(
      fromB64(hello.fields.box),
      fromB64(hello.fields.nonce, NONCE_BYTES),
      [this.options.serverPublicKey].flat(),
      temporary.secretKey,
    );
    const serverTempPublic = content.subarray(0, 32);
    if (content.length !== 32 + COOKIE_BYTES || b64(content.subarray(32)) !== b64(clientCookie)) {
      throw new ChatError('server_key_mismatch', 'The server did not echo our cookie.');
    }
    const serverCookie = fromB64(hello.fields.cookie, COOKIE_BYTES);
    const vouch = clientVouch(
      this.options.keys.secretKey,
      serverPublicKey,
      serverTempPublic,
      serverCookie,
      temporary.publicKey,
    );
    const login = new Uint8Array(8 + COOKIE_BYTES + vouch.length);
    login.set(new TextEncoder().encode(this.options.identity));
    login.set(serverCookie, 8);
    login.set(vouch, 8 + COOKIE_BYTES);
    const nonce = randomBytes(NONCE_BYTES);
    this.raw({
      action: 'login',
      nonce: b64(nonce),
      box: b64(boxSealShared(login, nonce, sharedKey(serverTempPublic, temporary.secretKey))),
    });
    const key = sessionKey(serverTempPublic, temporary.secretKey);
    const ack = await this.next(['loginAck', 'error']);
    if (ack.action === 'error') throw new ChatError(String(ack.fields.code), 'The server refused the login.');
    openFrame(ack.fields, key);
    this.session = key;
  }

  /** Pulls pages until the server says the queue is empty. */
  private async drainQueue(): Promise<void> {
    for (;;) {
      this.sessionFrame('pull', {});
      const page = await this.next(['queue']);
      const payload = openFrame(page.fields, this.session!);
      for (const message of payload.messages as Record<string, unknown>[]) await this.deliver(message);
      if (!payload.more) break;
      // Acks free the next page: the server pages from the oldest unacked message.
      this.flushAcks();
      await this.next(['acked']);
    }
    this.onQueueEmpty();
  }

  // ─── Frames ───────────────────────────────────────────────────────────────────────────────────

  private raw(frame: Record<string, unknown> | string): void {
    if (this.socket?.readyState === OPEN)
      this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  private seal(action: string, payload: unknown): string {
    return sealFrame(action, payload, this.session!, randomBytes(NONCE_BYTES));
  }

  private sessionFrame(action: string, payload: unknown): void {
    this.raw(this.seal(action, payload));
  }

  /** Waits for the next frame with one of `actions` (frames for others are handled as they come). */
  private next(actions: readonly string[]): Promise<{ action: string; fields: Record<string, unknown> }> {
    const index = this.inbox.findIndex((frame) => actions.includes(frame.action));
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new ChatError('timeout', 'The chat server did not answer in time.'));
      }, 15_000);
      this.waiting = (frame) => {
        if (!actions.includes(frame.action)) return void this.inbox.push(frame);
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(frame);
      };
    });
  }

  private receive(text: string): void {
    let frame: { action?: unknown } & Record<string, unknown>;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const { action, ...fields } = frame;
    if (typeof action !== 'string') return;
    if (this.session && (action === 'message' || action === 'sendAck' || action === 'sendError')) {
      void this.onSessionFrame(action, fields).catch(() => {});
      return;
    }
    if (action === 'echo') return;
    if ((action === 'acked' || action === 'error') && this.acksInFlight > 0) this.ackAnswered();
    // Answers to acks sent outside the backlog drain are not awaited by anyone.
    if (!this.waiting && (action === 'acked' || action === 'error')) return;
    if (this.waiting) this.waiting({ action, fields });
    else this.inbox.push({ action, fields });
  }

  private async onSessionFrame(action: string, fields: Record<string, unknown>): Promise<void> {
    const payload = openFrame(fields, this.session!);
    if (action === 'message') return this.deliver(payload);
    const pending = this.pending.get(String(payload.id));
    if (!pending) return;
    this.pending.delete(String(payload.id));
    if (action === 'sendAck') {
      pending.resolve({
        id: fromB64(payload.id, MESSAGE_ID_BYTES),
        results: payload.results as SendResult['results'],
      });
    } else {
      pending.reject(new ChatError(String(payload.code)));
    }
  }

  private async deliver(message: Record<string, unknown>): Promise<void> {
    const sender = String(message.sender);
    const id = fromB64(message.id, MESSAGE_ID_BYTES);
    const flags = Number(message.flags);
    const ref = key(sender, id);
    if (!(flags & FLAGS.noQueue)) this.queueAck(sender, b64(id));
    // At-least-once delivery: a message pushed and then pulled again arrives twice; show it once.
    if (this.seen.has(ref)) return;
    let body: Uint8Array;
    try {
      body = boxOpenShared(
        fromB64(message.box),
        fromB64(message.nonce, NONCE_BYTES),
        await this.shared(sender),
      );
    } catch {
      return; // Not from whom it claims, or damaged: acked (so it goes away) but not shown.
    }
    this.seen.add(ref);
    if (this.seen.size > 10_000) this.seen.delete(this.seen.values().next().value!);
    this.onMessage({ sender, id, flags, body, sentAt: Number(message.sentAt) });
  }

  private queueAck(sender: string, id: string): void {
    this.ackQueue.push({ sender, id });
    if (this.ackQueue.length >= (this.options.ackBatch ?? LIMITS.ackMaxMessages)) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), this.options.ackDelayMs ?? 200);
  }

  private flushAcks(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    while (this.ackQueue.length > 0 && this.session && this.socket?.readyState === OPEN) {
      const batch = this.ackQueue.splice(0, LIMITS.ackMaxMessages);
      this.sessionFrame('ack', { messages: batch });
      this.acksInFlight++;
    }
  }

  private shared(identity: string): Promise<Uint8Array> {
    let shared = this.peers.get(identity);
    if (!shared) {
      shared = this.options
        .publicKeyOf(identity)
        .then((publicKey) => sharedKey(publicKey, this.options.keys.secretKey));
      shared.catch(() => this.peers.delete(identity));
      this.peers.set(identity, shared);
    }
    return shared;
  }

  /** One ack frame was answered (or can no longer be); `close` may go on when none is left. */
  private ackAnswered(all = false): void {
    this.acksInFlight = all ? 0 : this.acksInFlight - 1;
    if (this.acksInFlight > 0) return;
    for (const done of this.acksAnswered.splice(0)) done();
  }

  private closed(code: number): void {
    clearInterval(this.keepAlive);
    this.session = undefined;
    // Answers to acks on the lost socket will not come; the messages come again after a reconnect.
    this.ackAnswered(true);
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

/** Opens the server hello with the first pinned key that made it; none did: a mismatch. */
function openServerHello(
  box: Uint8Array,
  nonce: Uint8Array,
  pinned: readonly Uint8Array[],
  temporarySecret: Uint8Array,
): { content: Uint8Array; serverPublicKey: Uint8Array } {
  for (const serverPublicKey of pinned) {
    try {
      return {
        content: boxOpenShared(box, nonce, sharedKey(serverPublicKey, temporarySecret)),
        serverPublicKey,
      };
    } catch {
      // Not this key: try the next one.
    }
  }
  throw new ChatError('server_key_mismatch', 'The server did not prove a pinned server key.');
}
