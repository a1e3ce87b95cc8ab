/** Helpers for chat tests: identities through the directory, raw protocol steps, sessions. */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ChatSession } from '../../client/chat/session.ts';
import { DirectoryClient } from '../../client/directory/client.ts';
import { MAILBOX } from '../../contract/schema.ts';
import type { Runner } from '../../local/runner.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import {
  b64,
  COOKIE_BYTES,
  clientFrameNonce,
  FRAME_COUNTER_BYTES,
  fromB64,
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
import { sealLogin } from '../../protocol/handshake.ts';
import { openSocket, type TestSocket } from './ws.ts';

/**
 * The message items in `who`'s mailbox, read straight from the mailbox table (`table`: its physical
 * name, e.g. `runner.tables.mailbox`), expired ones included.
 */
export async function mailboxItems(
  dynamo: DynamoDBDocumentClient,
  table: string,
  who: { readonly id: string },
) {
  const result = await dynamo.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
      ExpressionAttributeNames: { '#r': MAILBOX.attributes.recipient, '#k': MAILBOX.attributes.key },
      ExpressionAttributeValues: { ':r': who.id, ':m': 'm#' },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

export interface TestIdentity {
  readonly id: string;
  readonly keys: KeyPair;
}

export async function registerIdentity(runner: Runner): Promise<TestIdentity> {
  const keys = generateKeyPair();
  const id = await new DirectoryClient({ server: runner.httpUrl }).createIdentity(keys);
  return { id, keys };
}

export function newSession(
  runner: Runner,
  who: TestIdentity,
  options: {
    reconnect?: boolean;
    keepAliveMs?: number;
    reconnectMaxMs?: number;
    pinned?: readonly Uint8Array[];
    /** Default 20 ms. */
    ackDelayMs?: number;
    receive?: boolean;
  } = {},
) {
  const directory = new DirectoryClient({ server: runner.httpUrl });
  const session = new ChatSession({
    url: runner.wsUrl,
    serverPublicKey: options.pinned ?? fromHex(runner.serverPublicKey)!,
    identity: who.id,
    keys: who.keys,
    publicKeyOf: async (identity) => {
      const entry = await directory.lookup(identity);
      if (!entry?.publicKey) throw new Error('unknown peer');
      return entry.publicKey;
    },
    ackDelayMs: options.ackDelayMs ?? 20,
    reconnect: options.reconnect ?? false,
    ...(options.receive === false ? { receive: false } : {}),
    ...(options.keepAliveMs ? { keepAliveMs: options.keepAliveMs } : {}),
    ...(options.reconnectMaxMs ? { reconnectMaxMs: options.reconnectMaxMs } : {}),
  });
  const received: { sender: string; text: string; id: string }[] = [];
  session.onMessage = (message) => {
    received.push({
      sender: message.sender,
      text: new TextDecoder().decode(message.body),
      id: b64(message.id),
    });
  };
  return { session, received };
}

/** A raw connection that speaks the protocol step by step, for attacks and edge cases. */
export class RawClient {
  key: Uint8Array | undefined;
  private constructor(
    readonly socket: TestSocket,
    private readonly runner: Runner,
  ) {}

  static async open(runner: Runner): Promise<RawClient> {
    return new RawClient(await openSocket(runner.wsUrl), runner);
  }

  async json(): Promise<Record<string, unknown>> {
    return JSON.parse(await this.socket.next());
  }

  /** Sends hello; returns what the login step needs. */
  async hello() {
    const temporary = generateKeyPair();
    const cookie = randomBytes(COOKIE_BYTES);
    this.socket.send(JSON.stringify({ action: 'hello', key: b64(temporary.publicKey), cookie: b64(cookie) }));
    const reply = await this.json();
    if (reply.action !== 'hello')
      return { reply, temporary, serverTempPublic: undefined, serverCookie: undefined };
    const serverPublic = fromHex(this.runner.serverPublicKey)!;
    const content = boxOpenShared(
      fromB64(reply.box),
      fromB64(reply.nonce, NONCE_BYTES),
      sharedKey(serverPublic, temporary.secretKey),
    );
    return {
      reply,
      temporary,
      serverTempPublic: content.subarray(0, 32),
      serverCookie: fromB64(reply.cookie, COOKIE_BYTES),
    };
  }

  /** The login frame for `identity`, vouched with `secretKey` (which may be the wrong one). */
  loginFrame(
    step: { temporary: KeyPair; serverTempPublic?: Uint8Array; serverCookie?: Uint8Array },
    identity: string,
    secretKey: Uint8Array,
  ): string {
    const nonce = randomBytes(NONCE_BYTES);
    const box = sealLogin(
      {
        identity,
        identitySecret: secretKey,
        serverPublicKey: fromHex(this.runner.serverPublicKey)!,
        serverTempPublic: step.serverTempPublic!,
        serverCookie: step.serverCookie!,
        temporary: step.temporary,
      },
      nonce,
    );
    return JSON.stringify({ action: 'login', nonce: b64(nonce), box: b64(box) });
  }

  /** Full handshake; returns the loginAck or error frame. */
  async login(who: TestIdentity, secretKey = who.keys.secretKey): Promise<Record<string, unknown>> {
    const step = await this.hello();
    this.socket.send(this.loginFrame(step, who.id, secretKey));
    const reply = await this.json();
    if (reply.action === 'loginAck') this.key = sessionKey(step.serverTempPublic!, step.temporary.secretKey);
    return reply;
  }

  /** The last frame counter used on this connection's session. */
  counter = 0;

  /** A sealed session frame with the next counter (or `counter`, to replay or skip numbers). */
  sealSession(action: string, payload: unknown, counter = ++this.counter): string {
    const nonce = clientFrameNonce(counter, randomBytes(NONCE_BYTES - FRAME_COUNTER_BYTES));
    return sealFrame(action, payload, this.key!, nonce);
  }

  sendSession(action: string, payload: unknown): void {
    this.socket.send(this.sealSession(action, payload));
  }

  /** The next frame, decrypted when it is a session frame. */
  async nextSession(): Promise<{ action: string; payload: Record<string, unknown> }> {
    const frame = await this.json();
    if (typeof frame.box === 'string' && this.key && frame.action !== 'hello') {
      return { action: String(frame.action), payload: openFrame(frame, this.key) };
    }
    return { action: String(frame.action), payload: frame };
  }

  /** A send payload with boxes from `from` to each recipient. */
  static sendPayload(from: TestIdentity, to: TestIdentity[], text: string, id = randomBytes(8), flags = 0) {
    return {
      id: b64(id),
      flags,
      to: to.map((recipient) => {
        const nonce = randomBytes(NONCE_BYTES);
        const box = boxSealShared(
          new TextEncoder().encode(text),
          nonce,
          sharedKey(recipient.keys.publicKey, from.keys.secretKey),
        );
        return { identity: recipient.id, nonce: b64(nonce), box: b64(box) };
      }),
    };
  }
}

export { toHex };
