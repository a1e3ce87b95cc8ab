/**
 * The chat switch's wire protocol (docs/PROTOCOL.md, "Chat switch"), modelled on Threema's Chat
 * Server Protocol. Every frame is a JSON text frame with an `action` (API Gateway routes on it);
 * binary fields are standard base64 with padding.
 *
 * Handshake (SK = server's long-term key, pinned by clients; TSK/TCK = temporary keys; CK = the
 * identity's key):
 *
 *   client → {"action":"hello", "key": TCK.pub (32), "cookie": CCK (16)}
 *   server → {"action":"hello", "cookie": SCK (16), "nonce": n (24),
 *             "box": box(TSK.pub (32) ‖ CCK (16), n, from SK.secret to TCK.pub)}
 *   client → {"action":"login", "nonce": n (24),
 *             "box": box(identity (8 ASCII) ‖ SCK (16) ‖ vouch (32), n, from TCK.secret to TSK.pub)}
 *   server → {"action":"loginAck", "nonce", "box"}                                (session frame)
 *
 *   vouch      = BLAKE2b-256(key = vouchKey, message = SCK ‖ TCK.pub)
 *   vouchKey   = BLAKE2b-256(key = SS1 ‖ SS2, salt = "v2", personal = "3ma-csp")   (empty message)
 *   SS1        = crypto_box_beforenm(SK.pub, CK.secret)    SS2 = crypto_box_beforenm(TSK.pub, CK.secret)
 *   sessionKey = crypto_box_beforenm(TSK.pub, TCK.secret)  (temporary keys only: forward secrecy)
 *
 * Session frames after login, both directions:
 *
 *   {"action": A, "nonce": n (24), "box": secretbox(UTF-8 JSON payload, n, sessionKey)}
 *
 *   server → client: n = 24 random bytes
 *   client → server: n = 16 random bytes ‖ counter (u64 big-endian; 1, 2, 3, … per connection)
 *
 * Server nonces are random, not cookie ‖ counter as in Threema: stateless Lambdas push to one
 * connection from many invocations, so no single writer could keep a counter in order. Client
 * frames carry a counter, authenticated by the box (it is part of the nonce): the server accepts
 * each counter once (replay protection), in any order within LIMITS.replayWindowFrames, because
 * API Gateway hands one connection's frames to concurrent invocations.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { concatBytes, fromBase64, pad16, toBase64 } from './bytes.ts';
import {
  BOX_NONCE_BYTES,
  isSmallOrderKey,
  KEY_BYTES,
  SECRETBOX_OVERHEAD_BYTES,
  secretboxOpen,
  secretboxSeal,
  sharedKey,
} from './crypto.ts';

export { KEY_BYTES };

import { SwitchyardError } from './errors.ts';
import { ensureIdentityId, type IdentityId } from './identity.ts';
import { parseJsonObject } from './json.ts';
import { LIMITS } from './limits.ts';

export const COOKIE_BYTES = 16;
export const NONCE_BYTES = BOX_NONCE_BYTES;
export const VOUCH_BYTES = 32;
export const MESSAGE_ID_BYTES = 8;
export const IDENTITY_BYTES = 8;
export const LOGIN_PAYLOAD_BYTES = IDENTITY_BYTES + COOKIE_BYTES + VOUCH_BYTES;

/** Message flags, as in Threema. */
export const FLAGS = {
  /** Ask for a push notification (no push service yet: accepted and ignored). */
  push: 0x01,
  /** Drop the message if the recipient is not connected (typing indicators). */
  noQueue: 0x02,
  /** Don't send a server ack to the sender. */
  noServerAck: 0x04,
  /** Keep the message only briefly (LIMITS.shortLivedSeconds) if not delivered. */
  shortLived: 0x20,
  /** For the recipient's client: no automatic delivery receipt. The server ignores it. */
  noDeliveryReceipt: 0x80,
} as const;
export const KNOWN_FLAGS = Object.values(FLAGS).reduce((all, flag) => all | flag, 0);

/** Actions a client sends after login, each its own API Gateway route. */
export const SESSION_ACTIONS = ['send', 'ack', 'pull'] as const;
export type SessionAction = (typeof SESSION_ACTIONS)[number];

// ─── Encoding ───────────────────────────────────────────────────────────────────────────────────

export function b64(bytes: Uint8Array): string {
  return toBase64(bytes);
}

/** Decodes standard base64 of exactly `length` bytes (or at most `max` when length is undefined). */
export function fromB64(value: unknown, length?: number, max = LIMITS.wsMessageBytes): Uint8Array {
  if (typeof value !== 'string' || value.length > Math.ceil((max * 4) / 3) + 4) {
    throw new SwitchyardError('bad_request');
  }
  const bytes = fromBase64(value);
  if (!bytes) throw new SwitchyardError('bad_request');
  if (length !== undefined ? bytes.length !== length : bytes.length > max)
    throw new SwitchyardError('bad_request');
  return bytes;
}

// ─── Handshake crypto ───────────────────────────────────────────────────────────────────────────

const VOUCH_SALT = pad16('v2');
const PERSONAL = pad16('3ma-csp');

/** The vouch from the two shared secrets SS1 (with SK) and SS2 (with TSK); see the layout above. */
export function vouchFromShared(
  ss1: Uint8Array,
  ss2: Uint8Array,
  serverCookie: Uint8Array,
  clientTempPublic: Uint8Array,
) {
  const vouchKey = blake2b(new Uint8Array(0), {
    key: concatBytes(ss1, ss2),
    salt: VOUCH_SALT,
    personalization: PERSONAL,
    dkLen: 32,
  });
  return blake2b(concatBytes(serverCookie, clientTempPublic), { key: vouchKey, dkLen: VOUCH_BYTES });
}

/** Client side: the vouch proving possession of the identity key `clientSecret`. */
export function clientVouch(
  clientSecret: Uint8Array,
  serverPublic: Uint8Array,
  serverTempPublic: Uint8Array,
  serverCookie: Uint8Array,
  clientTempPublic: Uint8Array,
): Uint8Array {
  return vouchFromShared(
    sharedKey(serverPublic, clientSecret),
    sharedKey(serverTempPublic, clientSecret),
    serverCookie,
    clientTempPublic,
  );
}

/** Server side: the vouch expected from the identity whose public key is `clientPublic`. */
export function serverExpectedVouch(
  serverSecret: Uint8Array,
  serverTempSecret: Uint8Array,
  clientPublic: Uint8Array,
  serverCookie: Uint8Array,
  clientTempPublic: Uint8Array,
): Uint8Array {
  return vouchFromShared(
    sharedKey(clientPublic, serverSecret),
    sharedKey(clientPublic, serverTempSecret),
    serverCookie,
    clientTempPublic,
  );
}

/** The session key both sides derive from the two temporary keys. */
export function sessionKey(theirTempPublic: Uint8Array, ourTempSecret: Uint8Array): Uint8Array {
  return sharedKey(theirTempPublic, ourTempSecret);
}

// ─── Session frames ─────────────────────────────────────────────────────────────────────────────

/** The frame counter's bytes at the end of a client frame's nonce. */
export const FRAME_COUNTER_BYTES = 8;

/** A client frame's nonce: 16 random bytes, then `counter` as a u64 big-endian. */
export function clientFrameNonce(counter: number, random: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 1) throw new RangeError('frame counter out of range');
  if (random.length !== NONCE_BYTES - FRAME_COUNTER_BYTES) throw new RangeError('16 random bytes expected');
  const nonce = new Uint8Array(NONCE_BYTES);
  nonce.set(random);
  new DataView(nonce.buffer).setBigUint64(NONCE_BYTES - FRAME_COUNTER_BYTES, BigInt(counter));
  return nonce;
}

/**
 * The counter in a client frame's nonce; `bad_request` for 0 or a value above 2^53 − 1 (no client
 * sends that many frames on one connection).
 */
export function frameCounter(nonce: Uint8Array): number {
  const view = new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength);
  const counter = view.getBigUint64(NONCE_BYTES - FRAME_COUNTER_BYTES);
  if (counter < 1n || counter > BigInt(Number.MAX_SAFE_INTEGER)) throw new SwitchyardError('bad_request');
  return Number(counter);
}

/** Encrypts a session frame's payload. */
export function sealFrame(action: string, payload: unknown, key: Uint8Array, nonce: Uint8Array): string {
  const box = secretboxSeal(new TextEncoder().encode(JSON.stringify(payload)), nonce, key);
  return JSON.stringify({ action, nonce: b64(nonce), box: b64(box) });
}

/** The length of standard base64 (with padding) of `bytes` bytes. */
function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The exact size in bytes of the frame {@link sealFrame} makes of `action` and `payload`, without
 * sealing it: the nonce and the box (payload's UTF-8 JSON + 16-byte tag) have fixed base64 lengths.
 */
export function sealedFrameBytes(action: string, payload: unknown): number {
  const plain = new TextEncoder().encode(JSON.stringify(payload)).length;
  const frame = {
    action,
    nonce: 'A'.repeat(base64Length(NONCE_BYTES)),
    box: 'A'.repeat(base64Length(plain + SECRETBOX_OVERHEAD_BYTES)),
  };
  return new TextEncoder().encode(JSON.stringify(frame)).length;
}

/**
 * The size in bytes of the `send` frame that carries a box of `bodyBytes` plaintext bytes (box =
 * body + 16-byte tag) to each of `recipients` identities, with `flags`:
 *
 *   frame   = 69 + base64Length(P + 16)          P = the payload's JSON length
 *   P       = 38 + digits(flags) + recipients × (75 + base64Length(bodyBytes + 16)) + (recipients − 1)
 *
 * A client must not send a frame over LIMITS.wsFrameBytes: API Gateway closes the connection (1009).
 */
export function sendFrameBytes(bodyBytes: number, recipients = 1, flags = 0): number {
  const envelope = {
    identity: 'X'.repeat(IDENTITY_BYTES),
    nonce: 'A'.repeat(base64Length(NONCE_BYTES)),
    box: 'A'.repeat(base64Length(bodyBytes + SECRETBOX_OVERHEAD_BYTES)),
  };
  const id = 'A'.repeat(base64Length(MESSAGE_ID_BYTES));
  return sealedFrameBytes('send', { id, flags, to: Array.from({ length: recipients }, () => envelope) });
}

/** The largest box plaintext (bytes) one `send` frame to `recipients` can carry within LIMITS.wsFrameBytes. */
export function maxSendBodyBytes(recipients = 1, flags = 0): number {
  let low = 0;
  let high = LIMITS.wsFrameBytes;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (sendFrameBytes(mid, recipients, flags) <= LIMITS.wsFrameBytes) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * Decrypts a session frame's payload into a JSON object; `bad_request` if the frame is malformed
 * or does not open under `key` (wrong session, altered bytes).
 */
export function openFrame(
  fields: Readonly<Record<string, unknown>>,
  key: Uint8Array,
): Record<string, unknown> {
  const nonce = fromB64(fields.nonce, NONCE_BYTES);
  const box = fromB64(fields.box);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(secretboxOpen(box, nonce, key));
  } catch (cause) {
    throw new SwitchyardError('bad_request', { cause });
  }
  return parseJsonObject(text);
}

// ─── Payloads ───────────────────────────────────────────────────────────────────────────────────

/** One recipient's copy of a message: its own NaCl box from the sender's key to the recipient's. */
export interface Envelope {
  readonly identity: IdentityId;
  readonly nonce: Uint8Array;
  readonly box: Uint8Array;
}

/** A message as the recipient receives it. */
export interface Delivery {
  readonly sender: string;
  readonly id: Uint8Array;
  readonly flags: number;
  readonly nonce: Uint8Array;
  readonly box: Uint8Array;
  /** Server arrival time, ms since the epoch. */
  readonly sentAt: number;
}

export function encodeDelivery(message: Delivery) {
  return {
    sender: message.sender,
    id: b64(message.id),
    flags: message.flags,
    nonce: b64(message.nonce),
    box: b64(message.box),
    sentAt: message.sentAt,
  };
}

// ─── Request parsing (server side), size then shape ─────────────────────────────────────────────

/** `bad_request` for a payload with a field not in `allowed` (the blob routes use it too). */
export function onlyKeys(value: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  if (Object.keys(value).some((key) => !allowed.includes(key))) throw new SwitchyardError('bad_request');
}

/**
 * `hello` fields: the client's temporary public key and cookie. A small-order key is
 * `bad_request`: the session key from it would be known to everyone.
 */
export function parseHello(fields: Readonly<Record<string, unknown>>) {
  onlyKeys(fields, ['key', 'cookie']);
  const clientTempPublic = fromB64(fields.key, KEY_BYTES);
  if (isSmallOrderKey(clientTempPublic)) throw new SwitchyardError('bad_request');
  return { clientTempPublic, clientCookie: fromB64(fields.cookie, COOKIE_BYTES) };
}

/** `login` fields: nonce and the box of identity ‖ server cookie ‖ vouch (+ box overhead). */
export function parseLogin(fields: Readonly<Record<string, unknown>>) {
  onlyKeys(fields, ['nonce', 'box']);
  return { nonce: fromB64(fields.nonce, NONCE_BYTES), box: fromB64(fields.box, LOGIN_PAYLOAD_BYTES + 16) };
}

/** A client session frame before decryption: its nonce (24 bytes) and the counter in it. */
export function parseSessionFrame(fields: Readonly<Record<string, unknown>>): {
  nonce: Uint8Array;
  counter: number;
} {
  onlyKeys(fields, ['nonce', 'box']);
  const nonce = fromB64(fields.nonce, NONCE_BYTES);
  return { nonce, counter: frameCounter(nonce) };
}

/** A parsed `send`: the client's message id, the flags, and one envelope per distinct recipient. */
export interface SendRequest {
  readonly id: Uint8Array;
  readonly flags: number;
  readonly to: readonly Envelope[];
  /** Messages the sender acknowledges on the way (an `ack` without a reply); may be empty. */
  readonly ack: readonly MessageRef[];
}

/** One message an `ack` acknowledges: its sender and the sender's message id. */
export interface MessageRef {
  readonly sender: IdentityId;
  readonly id: Uint8Array;
}

/**
 * `send` payload: {id, flags, to: [{identity, nonce, box}], ack?: [{sender, id}]}; `ack` (1 to
 * LIMITS.ackMaxMessages) acknowledges received messages in the same frame.
 */
export function parseSend(payload: Readonly<Record<string, unknown>>): SendRequest {
  onlyKeys(payload, ['id', 'flags', 'to', 'ack']);
  const flags = payload.flags ?? 0;
  // `& ~KNOWN_FLAGS` alone works on the low 32 bits: 2 ** 40 would pass it. Bound the value first.
  if (
    typeof flags !== 'number' ||
    !Number.isInteger(flags) ||
    flags < 0 ||
    flags > KNOWN_FLAGS ||
    (flags & ~KNOWN_FLAGS) !== 0
  ) {
    throw new SwitchyardError('bad_request');
  }
  const to = payload.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > LIMITS.maxRecipients)
    throw new SwitchyardError('bad_request');
  const envelopes = to.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw new SwitchyardError('bad_request');
    const fields = entry as Record<string, unknown>;
    onlyKeys(fields, ['identity', 'nonce', 'box']);
    const identity = ensureIdentityId(fields.identity);
    const box = fromB64(fields.box, undefined, LIMITS.maxBoxBytes);
    if (box.length < 16) throw new SwitchyardError('bad_request');
    return { identity, nonce: fromB64(fields.nonce, NONCE_BYTES), box };
  });
  if (new Set(envelopes.map((e) => e.identity)).size !== envelopes.length)
    throw new SwitchyardError('bad_request');
  const ack = payload.ack === undefined ? [] : ackRefs(payload.ack);
  return { id: fromB64(payload.id, MESSAGE_ID_BYTES), flags, to: envelopes, ack };
}

/**
 * `ack` payload: {messages: [{sender, id}], reply?: boolean}, 1 to LIMITS.ackMaxMessages messages;
 * the server answers `acked` only when `reply` is true.
 */
export function parseAck(payload: Readonly<Record<string, unknown>>): {
  messages: MessageRef[];
  reply: boolean;
} {
  onlyKeys(payload, ['messages', 'reply']);
  const messages = ackRefs(payload.messages);
  if (payload.reply !== undefined && typeof payload.reply !== 'boolean')
    throw new SwitchyardError('bad_request');
  return { messages, reply: payload.reply === true };
}

/** 1 to LIMITS.ackMaxMessages message references, as an `ack` frame or a `send` carries them. */
function ackRefs(messages: unknown): MessageRef[] {
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > LIMITS.ackMaxMessages) {
    throw new SwitchyardError('bad_request');
  }
  return parseRefs(messages);
}

function parseRefs(messages: readonly unknown[]): MessageRef[] {
  return messages.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) throw new SwitchyardError('bad_request');
    const fields = entry as Record<string, unknown>;
    onlyKeys(fields, ['sender', 'id']);
    const sender = ensureIdentityId(fields.sender);
    return { sender, id: fromB64(fields.id, MESSAGE_ID_BYTES) };
  });
}

/** `pull` payload: {} (no parameters). */
export function parsePull(payload: Readonly<Record<string, unknown>>): void {
  onlyKeys(payload, []);
}
