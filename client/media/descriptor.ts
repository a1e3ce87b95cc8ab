/**
 * The attachment descriptor: what a message carries about a file, inside the end-to-end encrypted
 * box (content type 0x02, client/chat/content.ts). The server never sees it: it sees a blob id in
 * the blob routes and a box of the usual size in the mailbox, and cannot tie the two together
 * except by timing.
 *
 *   offset  bytes  field
 *   0       1      version            0x01
 *   1       16     blob id            the server's 128-bit id of the encrypted blob
 *   17      32     key                the file's secretbox key (client/media/format.ts)
 *   49      8      size               plaintext bytes, unsigned big-endian (≤ 2^53 − 1)
 *   57      32     hash               SHA-256 of the encrypted blob, as stored
 *   89      1      m                  media type length, 1–127
 *   90      m      media type         ASCII `type/subtype`, lowercase (e.g. image/png)
 *   90 + m  1      f                  file name length, 0–255
 *   91 + m  f      file name          UTF-8, no `/`, `\`, NUL; may be empty
 */
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { BLOB_ID_BYTES, type BlobId, isBlobId } from '../../protocol/media.ts';
import { BLOB_HASH_BYTES, BLOB_KEY_BYTES, blobSize } from './format.ts';

export const DESCRIPTOR_VERSION = 0x01;
const FIXED_BYTES = 1 + BLOB_ID_BYTES + BLOB_KEY_BYTES + 8 + BLOB_HASH_BYTES;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/;
export const MAX_MEDIA_TYPE_BYTES = 127;
export const MAX_NAME_BYTES = 255;

/** A file sent in a message: where its blob is, how to open it, and what it is. */
export interface Attachment {
  readonly blob: BlobId;
  readonly key: Uint8Array;
  /** Plaintext bytes. */
  readonly size: number;
  /** SHA-256 of the encrypted blob. */
  readonly hash: Uint8Array;
  readonly mediaType: string;
  /** The sender's file name (a suggestion: never trust it as a path). */
  readonly name: string;
}

/** Thrown for a descriptor this client cannot read. */
export class DescriptorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DescriptorError';
  }
}

/** Whether `name` may stand in a descriptor: no path separators or NUL, at most 255 UTF-8 bytes. */
export function checkFileName(name: string): string {
  if (
    /[/\\\0]/.test(name) ||
    new TextEncoder().encode(name).length > MAX_NAME_BYTES ||
    name === '.' ||
    name === '..'
  )
    throw new DescriptorError('The file name must be a plain name of at most 255 bytes.');
  return name;
}

export function checkMediaType(mediaType: string): string {
  if (!MEDIA_TYPE.test(mediaType) || mediaType.length > MAX_MEDIA_TYPE_BYTES)
    throw new DescriptorError('The media type must look like type/subtype (lowercase ASCII).');
  return mediaType;
}

export function encodeAttachment(attachment: Attachment): Uint8Array {
  const mediaType = new TextEncoder().encode(checkMediaType(attachment.mediaType));
  const name = new TextEncoder().encode(checkFileName(attachment.name));
  if (attachment.key.length !== BLOB_KEY_BYTES || attachment.hash.length !== BLOB_HASH_BYTES)
    throw new DescriptorError('The key and the hash are 32 bytes each.');
  if (!Number.isSafeInteger(attachment.size) || attachment.size < 0)
    throw new DescriptorError('The size must be a whole number of bytes.');
  const out = new Uint8Array(FIXED_BYTES + 1 + mediaType.length + 1 + name.length);
  const view = new DataView(out.buffer);
  out[0] = DESCRIPTOR_VERSION;
  out.set(fromHex(attachment.blob)!, 1);
  out.set(attachment.key, 17);
  view.setBigUint64(49, BigInt(attachment.size));
  out.set(attachment.hash, 57);
  out[89] = mediaType.length;
  out.set(mediaType, 90);
  out[90 + mediaType.length] = name.length;
  out.set(name, 91 + mediaType.length);
  return out;
}

export function decodeAttachment(bytes: Uint8Array): Attachment {
  if (bytes.length < FIXED_BYTES + 2) throw new DescriptorError('The attachment descriptor is too short.');
  if (bytes[0] !== DESCRIPTOR_VERSION)
    throw new DescriptorError('The attachment descriptor has a version this client does not know.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getBigUint64(49);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new DescriptorError('The attachment is too large.');
  const m = bytes[89]!;
  const f = bytes[90 + m];
  if (f === undefined || bytes.length !== FIXED_BYTES + 2 + m + f)
    throw new DescriptorError('The attachment descriptor has the wrong length.');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let mediaType: string;
  let name: string;
  try {
    mediaType = checkMediaType(decoder.decode(bytes.subarray(90, 90 + m)));
    name = checkFileName(decoder.decode(bytes.subarray(91 + m)));
  } catch {
    throw new DescriptorError('The attachment descriptor has a malformed media type or name.');
  }
  const blob = toHex(bytes.subarray(1, 17));
  if (!isBlobId(blob)) throw new DescriptorError('The attachment descriptor has a malformed blob id.');
  return {
    blob,
    key: bytes.slice(17, 49),
    size: Number(size),
    hash: bytes.slice(57, 89),
    mediaType,
    name,
  };
}

/** The encrypted blob's size for an attachment (what the server stores). */
export function attachmentBlobSize(attachment: Pick<Attachment, 'size'>): number {
  return blobSize(attachment.size);
}
