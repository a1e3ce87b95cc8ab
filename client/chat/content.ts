/**
 * What is inside a message box: the end-to-end content, which only the two clients see. Modelled
 * on Threema's message format (type byte, content, random PKCS#7-style padding):
 *
 *   offset 0      1                       n              n + pad
 *          ┌──────┬───────────────────────┬──────────────┐
 *          │ type │ content               │ pad × (pad)  │   pad: 1–255 random, total ≥ 32 bytes
 *          └──────┴───────────────────────┴──────────────┘
 *
 *   type 0x01  text              content = UTF-8 text
 *   type 0x02  file              content = attachment descriptor (client/media/descriptor.ts)
 *   type 0x80  delivery receipt  content = status (0x01 received) ‖ message id (8 bytes) × 1–32
 *
 * The padding hides the exact length of short texts and makes a receipt look like a short text to
 * the server: both travel with the same flags, so the server cannot tell them apart by size or flag.
 */
import { MESSAGE_ID_BYTES, maxSendBodyBytes } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';

export const CONTENT_TYPE = { text: 0x01, file: 0x02, deliveryReceipt: 0x80 } as const;
export const RECEIPT_STATUS = { received: 0x01 } as const;
/** Message ids per receipt (a receipt for a whole backlog page goes out in two or so). */
export const MAX_RECEIPT_IDS = 32;
const MIN_PADDED_BYTES = 32;
/** The most random padding `pad` adds. */
const MAX_PADDING = 255;

/**
 * The largest text (UTF-8 bytes) that always fits one `send` frame to one recipient, whatever the
 * random padding: the frame's largest box plaintext (protocol/chat.ts `maxSendBodyBytes`) less the
 * type byte and the most padding. With flags below 10 (e.g. 0, as the CLI and the browser send)
 * that is 18 278 − 1 − 255 = 18 022 bytes.
 */
export function maxTextBytes(flags = 0): number {
  return maxSendBodyBytes(1, flags) - 1 - MAX_PADDING;
}

export type Content =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'file'; readonly descriptor: Uint8Array }
  | { readonly type: 'deliveryReceipt'; readonly ids: readonly Uint8Array[] };

/** Thrown for content this client cannot read (unknown type, bad padding, bad UTF-8). */
export class ContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContentError';
  }
}

function pad(type: number, content: Uint8Array): Uint8Array {
  let padding = 1 + (randomBytes(1)[0]! % MAX_PADDING);
  if (1 + content.length + padding < MIN_PADDED_BYTES) padding = MIN_PADDED_BYTES - 1 - content.length;
  const out = new Uint8Array(1 + content.length + padding);
  out[0] = type;
  out.set(content, 1);
  out.fill(padding, 1 + content.length);
  return out;
}

/** Encodes a text message (padded). */
export function encodeText(text: string): Uint8Array {
  return pad(CONTENT_TYPE.text, new TextEncoder().encode(text));
}

/** Encodes a file message: its attachment descriptor (padded like a text). */
export function encodeFile(descriptor: Uint8Array): Uint8Array {
  return pad(CONTENT_TYPE.file, descriptor);
}

/** Encodes a delivery receipt ("received") for 1–32 message ids (padded). */
export function encodeDeliveryReceipt(ids: readonly Uint8Array[]): Uint8Array {
  if (ids.length < 1 || ids.length > MAX_RECEIPT_IDS)
    throw new ContentError('A receipt names 1–32 messages.');
  const content = new Uint8Array(1 + ids.length * MESSAGE_ID_BYTES);
  content[0] = RECEIPT_STATUS.received;
  ids.forEach((id, index) => {
    if (id.length !== MESSAGE_ID_BYTES) throw new ContentError('A message id is 8 bytes.');
    content.set(id, 1 + index * MESSAGE_ID_BYTES);
  });
  return pad(CONTENT_TYPE.deliveryReceipt, content);
}

/** Decodes a box's content; throws ContentError for anything this client does not understand. */
export function decodeContent(bytes: Uint8Array): Content {
  const padding = bytes.at(-1) ?? 0;
  if (bytes.length < 2 || padding < 1 || padding > bytes.length - 1)
    throw new ContentError('The message has no valid padding.');
  for (let index = bytes.length - padding; index < bytes.length; index++)
    if (bytes[index] !== padding) throw new ContentError('The message has no valid padding.');
  const content = bytes.subarray(1, bytes.length - padding);
  switch (bytes[0]) {
    case CONTENT_TYPE.text:
      try {
        return { type: 'text', text: new TextDecoder('utf-8', { fatal: true }).decode(content) };
      } catch {
        throw new ContentError('The text is not UTF-8.');
      }
    case CONTENT_TYPE.file:
      return { type: 'file', descriptor: content.slice() };
    case CONTENT_TYPE.deliveryReceipt: {
      const count = (content.length - 1) / MESSAGE_ID_BYTES;
      if (content[0] !== RECEIPT_STATUS.received || !Number.isInteger(count) || count < 1)
        throw new ContentError('The delivery receipt is malformed.');
      const ids = Array.from({ length: count }, (_, index) =>
        content.slice(1 + index * MESSAGE_ID_BYTES, 1 + (index + 1) * MESSAGE_ID_BYTES),
      );
      return { type: 'deliveryReceipt', ids };
    }
    default:
      throw new ContentError('The message has a type this client does not know.');
  }
}
