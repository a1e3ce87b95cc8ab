/**
 * Text messaging with delivery state on top of a ChatSession: texts and delivery receipts in the
 * end-to-end content format of ./content.ts, and each sent message's state moving only forward:
 *
 *   sent       handed to the session (re-sent after a reconnect until acked)
 *   acked      the server ack: stored on the server until the recipient's device takes it
 *   delivered  the recipient's device sent a delivery receipt for it (inside the box, end to end)
 *
 *   const messenger = new Messenger(session);
 *   messenger.onText = ({ sender, text }) => …;
 *   messenger.onState = (peer, id, state) => …;
 *   const sent = messenger.sendText('ABCD1234', 'hi');   // sent.id, sizes; sent.acked resolves on the ack
 *
 * Receipts go back automatically for every text without the "no delivery receipt" flag, a few
 * messages per receipt, with the same flags as a text, so the server cannot single them out.
 */
import { b64, FLAGS, MESSAGE_ID_BYTES } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { type Attachment, DescriptorError, decodeAttachment, encodeAttachment } from '../media/descriptor.ts';
import {
  ContentError,
  decodeContent,
  encodeDeliveryReceipt,
  encodeFile,
  encodeText,
  MAX_RECEIPT_IDS,
  maxTextBytes,
} from './content.ts';
import type { ChatSession, MessageAcceptance, ReceivedMessage, SendResult } from './session.ts';
import { ChatError } from './types.ts';

export type DeliveryState = 'sent' | 'acked' | 'delivered';
const ORDER: Record<DeliveryState, number> = { sent: 0, acked: 1, delivered: 2 };

/** NaCl box overhead: the Poly1305 tag. */
const BOX_OVERHEAD_BYTES = 16;

export interface ReceivedText {
  readonly sender: string;
  /** The message id, base64. */
  readonly id: string;
  readonly text: string;
  /** Server arrival time, ms since the epoch. */
  readonly sentAt: number;
}

/** A received file message: the attachment to download (client/media/client.ts). */
export interface ReceivedFile {
  readonly sender: string;
  /** The message id, base64. */
  readonly id: string;
  readonly attachment: Attachment;
  /** Server arrival time, ms since the epoch. */
  readonly sentAt: number;
}

/** A text handed to the session, with what went to the server and what did not. */
export interface SentText {
  /** The message id (8 random bytes), base64: the server sees it. */
  readonly id: string;
  readonly to: string;
  /** The flags the server sees. */
  readonly flags: number;
  /** The plaintext's UTF-8 length: stays on the device. */
  readonly textBytes: number;
  /** The padded content inside the box. */
  readonly contentBytes: number;
  /** The box the server stores and forwards: padded content + 16-byte tag. */
  readonly boxBytes: number;
  /** Resolves on the server ack. */
  readonly acked: Promise<SendResult>;
}

export interface MessengerOptions {
  /** Receipts wait this long to share one message (default 100 ms). */
  readonly receiptDelayMs?: number;
}

export class Messenger {
  /**
   * Called for each new text (duplicates are dropped by the session). Return `false` (or throw) to
   * refuse it: it is then not acked, no receipt goes out, and it stays on the server for a later
   * delivery. Until a handler is set, texts are refused.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing accepts the text.
  onText: ((message: ReceivedText) => boolean | undefined | void) | undefined;
  /**
   * Called for each new file message, like `onText`; may be async (e.g. download the blob first):
   * the message is acked only once it resolves with anything but `false`. Until set, files are refused.
   */
  onFile: ((file: ReceivedFile) => MessageAcceptance | Promise<MessageAcceptance>) | undefined;
  /** Called when a sent message moves to a later state. */
  onState: (peer: string, id: string, state: DeliveryState) => void = () => {};
  /** Called for content this client cannot read (e.g. from a newer client); it is acked and dropped. */
  onUnreadable: (sender: string, error: ContentError) => void = () => {};

  private readonly outgoing = new Map<string, { peer: string; state: DeliveryState }>();
  private readonly receipts = new Map<string, Uint8Array[]>();
  private receiptTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly session: ChatSession,
    private readonly options: MessengerOptions = {},
  ) {
    session.onMessage = (message) => this.receive(message);
  }

  /**
   * Sends a text; the returned `acked` rejects with the server's refusal (ChatError). Throws
   * ChatError `too_large`, sending nothing, for a text over `maxTextBytes(flags)` UTF-8 bytes: it
   * would not fit one WebSocket frame.
   */
  sendText(to: string, text: string, flags = 0): SentText {
    checkTextFits(text, flags);
    return this.sendContent(to, encodeText(text), new TextEncoder().encode(text).length, flags);
  }

  /**
   * Sends a file message: the attachment descriptor of a blob already uploaded for `to`
   * (client/media/client.ts `uploadFile`). `textBytes` is then the descriptor's length.
   */
  sendAttachment(to: string, attachment: Attachment, flags = 0): SentText {
    const descriptor = encodeAttachment(attachment);
    return this.sendContent(to, encodeFile(descriptor), descriptor.length, flags);
  }

  private sendContent(to: string, content: Uint8Array, textBytes: number, flags: number): SentText {
    const id = randomBytes(MESSAGE_ID_BYTES);
    const key = b64(id);
    this.outgoing.set(key, { peer: to, state: 'sent' });
    if (this.outgoing.size > 10_000) this.outgoing.delete(this.outgoing.keys().next().value!);
    const acked = this.session.send(to, content, flags, id);
    acked.then(
      () => this.advance(to, key, 'acked'),
      () => this.outgoing.delete(key),
    );
    return {
      id: key,
      to,
      flags,
      textBytes,
      contentBytes: content.length,
      boxBytes: content.length + BOX_OVERHEAD_BYTES,
      acked,
    };
  }

  /**
   * Watches for the receipt of a message sent by an earlier session (e.g. before a page reload):
   * its state then advances from `state` as if this messenger had sent it.
   */
  expect(peer: string, id: string, state: DeliveryState): void {
    if (state !== 'delivered' && !this.outgoing.has(id)) this.outgoing.set(id, { peer, state });
  }

  /** Sends the receipts still waiting (call before closing the session). */
  flushReceipts(): void {
    clearTimeout(this.receiptTimer);
    this.receiptTimer = undefined;
    for (const [peer, ids] of this.receipts) {
      for (let index = 0; index < ids.length; index += MAX_RECEIPT_IDS) {
        // A lost receipt only leaves the sender at "acked"; nothing to retry here.
        this.session
          .send(peer, encodeDeliveryReceipt(ids.slice(index, index + MAX_RECEIPT_IDS)))
          .catch(() => {});
      }
    }
    this.receipts.clear();
  }

  private advance(peer: string, id: string, state: DeliveryState): void {
    const entry = this.outgoing.get(id);
    // Only the recipient can confirm delivery, and states never go back (a receipt may beat the ack).
    if (!entry || entry.peer !== peer || ORDER[state] <= ORDER[entry.state]) return;
    entry.state = state;
    if (state === 'delivered') this.outgoing.delete(id);
    this.onState(peer, id, state);
  }

  /** The session's handler: `false` when the application refused the message (it is not acked). */
  private receive(message: ReceivedMessage): boolean | Promise<boolean> {
    let content: ReturnType<typeof decodeContent>;
    try {
      content = decodeContent(message.body);
    } catch (error) {
      if (!(error instanceof ContentError)) throw error;
      this.onUnreadable(message.sender, error);
      return true;
    }
    if (content.type === 'deliveryReceipt') {
      for (const id of content.ids) this.advance(message.sender, b64(id), 'delivered');
      return true;
    }
    if (content.type === 'file') {
      let attachment: Attachment;
      try {
        attachment = decodeAttachment(content.descriptor);
      } catch (error) {
        if (!(error instanceof DescriptorError)) throw error;
        this.onUnreadable(message.sender, new ContentError(error.message));
        return true;
      }
      const onFile = this.onFile;
      if (!onFile) return false;
      const file = { sender: message.sender, id: b64(message.id), attachment, sentAt: message.sentAt };
      return Promise.resolve(onFile(file)).then((accepted) => accepted !== false && this.accepted(message));
    }
    const text = { sender: message.sender, id: b64(message.id), text: content.text, sentAt: message.sentAt };
    if (!this.onText || this.onText(text) === false) return false;
    return this.accepted(message);
  }

  /** A message the application accepted: its receipt goes back (batched) unless the flags say not. */
  private accepted(message: ReceivedMessage): true {
    if (message.flags & (FLAGS.noDeliveryReceipt | FLAGS.noQueue)) return true;
    const waiting = this.receipts.get(message.sender) ?? [];
    waiting.push(message.id);
    this.receipts.set(message.sender, waiting);
    this.receiptTimer ??= setTimeout(() => this.flushReceipts(), this.options.receiptDelayMs ?? 100);
    return true;
  }
}

/** Throws ChatError `too_large` for a text longer than one message can carry (`maxTextBytes`). */
export function checkTextFits(text: string, flags = 0): void {
  const max = maxTextBytes(flags);
  if (new TextEncoder().encode(text).length > max)
    throw new ChatError(
      'too_large',
      `The text is too long: at most ${max} bytes (UTF-8) fit in one message.`,
    );
}
