/**
 * End-to-end encrypted files on a chat session: encrypt with a fresh key, upload straight to the
 * bucket with the presigned POST the server grants, and hand back the attachment to send in a
 * message; on the other side, download with a presigned GET, verify, decrypt, and report "done" so
 * the server deletes the blob.
 *
 *   const attachment = await uploadFile(session, { to: 'ABCD1234', source, size, mediaType: 'image/png', name });
 *   messenger.sendAttachment('ABCD1234', attachment);
 *   …
 *   messenger.onFile = async ({ attachment }) => {
 *     const bytes = await downloadBytes(session, attachment);   // verified, or it throws
 *     await finishDownload(session, attachment.blob);           // the server may delete it now
 *   };
 *
 * The blob routes are session frames (client/chat/session.ts `request`): the server knows which
 * identity asks. The bytes never pass through the server's functions.
 */
import { b64, MESSAGE_ID_BYTES } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { BLOB_ERROR, BLOB_REPLY, type BlobId, isBlobId } from '../../protocol/media.ts';
import type { ChatSession } from '../chat/session.ts';
import { ChatError } from '../chat/types.ts';
import { type Attachment, checkFileName, checkMediaType } from './descriptor.ts';
import { BLOB_KEY_BYTES, BlobVerificationError, blobSize, decryptBlob, encryptBlob } from './format.ts';

export { type Attachment, BlobVerificationError };

/** Progress of a transfer: encrypted bytes so far and in all. */
export type Progress = (done: number, total: number) => void;

type Fetch = typeof fetch;

export interface UploadOptions {
  /** The recipients that will download it: the server deletes the blob once all are done. */
  readonly to: string | readonly string[];
  /** The file's bytes: a Uint8Array, or any async iterable of chunks (a Node stream, a web stream). */
  readonly source: Uint8Array | AsyncIterable<Uint8Array>;
  /** The file's exact size in bytes (a source giving more or fewer fails the upload). */
  readonly size: number;
  /** `type/subtype`, e.g. `image/png`; default `application/octet-stream`. */
  readonly mediaType?: string;
  /** The file name shown to recipients (no path); default empty. */
  readonly name?: string;
  readonly onProgress?: Progress;
  /** Default: the global fetch. */
  readonly fetch?: Fetch;
}

export interface DownloadOptions {
  readonly onProgress?: Progress;
  readonly fetch?: Fetch;
}

const ANSWERS = { reply: BLOB_REPLY, error: BLOB_ERROR } as const;

/** A fresh request id for a session request (`ChatSession.request`): 16 random bytes, base64. */
export function requestId(): string {
  return b64(randomBytes(MESSAGE_ID_BYTES));
}

async function* iterate(source: Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) yield source;
  else for await (const chunk of source) yield chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
}

/** A multipart/form-data body: the policy's fields, then the file (S3 wants it last). */
function formBody(fields: Readonly<Record<string, string>>, fileBytes: number) {
  const boundary = `switchyard-${b64(randomBytes(12)).replace(/[+/=]/g, '')}`;
  const encoder = new TextEncoder();
  let head = '';
  for (const [name, value] of Object.entries(fields))
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const prefix = encoder.encode(head);
  const suffix = encoder.encode(`\r\n--${boundary}--\r\n`);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: prefix.length + fileBytes + suffix.length,
    prefix,
    suffix,
  };
}

/** An async generator as a web ReadableStream (what fetch streams from). */
function streamOf(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/** An http(s) URL the server handed out; anything else is refused before use. */
function checkUrl(value: unknown): string {
  const url = typeof value === 'string' ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new ChatError('bad_answer', 'The server answered with an unusable URL.');
  return url.toString();
}

/**
 * Encrypts `source` with a fresh key and uploads it for `to`. Resolves with the attachment to send
 * (Messenger.sendAttachment) once the bucket has stored the blob. Rejects with ChatError
 * `too_large` / `quota_exceeded` when the server refuses the upload (nothing was stored), and
 * `storage_refused` when the bucket refuses the bytes.
 */
export async function uploadFile(session: ChatSession, options: UploadOptions): Promise<Attachment> {
  const mediaType = checkMediaType(options.mediaType ?? 'application/octet-stream');
  const name = checkFileName(options.name ?? '');
  const total = blobSize(options.size);
  const to = typeof options.to === 'string' ? [options.to] : [...options.to];
  const granted = await session.request('blobUpload', { id: requestId(), size: total, to }, ANSWERS);
  const blob = granted.blob;
  if (!isBlobId(blob) || typeof granted.fields !== 'object' || granted.fields === null)
    throw new ChatError('bad_answer', 'The server answered the upload request in an unexpected way.');
  const url = checkUrl(granted.url);

  const key = randomBytes(BLOB_KEY_BYTES);
  const encrypted = encryptBlob(iterate(options.source), options.size, key);
  const form = formBody(granted.fields as Record<string, string>, total);
  let sent = 0;
  async function* body(): AsyncGenerator<Uint8Array> {
    yield form.prefix;
    for await (const chunk of encrypted.chunks) {
      sent += chunk.length;
      options.onProgress?.(sent, total);
      yield chunk;
    }
    yield form.suffix;
  }
  const response = await (options.fetch ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': form.contentType, 'content-length': String(form.length) },
    body: streamOf(body()),
    duplex: 'half',
  } as RequestInit);
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok)
    throw new ChatError('storage_refused', `The storage refused the upload (HTTP ${response.status}).`);
  return { blob, key, size: options.size, hash: encrypted.hash(), mediaType, name };
}

/**
 * Downloads and decrypts an attachment, handing each verified chunk's plaintext to `sink` in order.
 * Resolves once the whole blob is verified (size, every chunk's MAC, the final chunk, the hash);
 * rejects with BlobVerificationError otherwise. Until it resolves, what `sink` got must not be shown
 * or kept: write it somewhere temporary (the CLI renames its `.part` file only after). Rejects with
 * ChatError `not_found` when the blob is gone (expired, or every recipient is done).
 */
export async function downloadFile(
  session: ChatSession,
  attachment: Attachment,
  sink: (plain: Uint8Array) => void | Promise<void>,
  options: DownloadOptions = {},
): Promise<void> {
  const granted = await session.request('blobDownload', { id: requestId(), blob: attachment.blob }, ANSWERS);
  const response = await (options.fetch ?? fetch)(checkUrl(granted.url));
  if (response.status === 403 || response.status === 404) {
    await response.arrayBuffer().catch(() => undefined);
    throw new ChatError('not_found', 'The file is no longer on the server.');
  }
  if (!response.ok || !response.body) {
    await response.arrayBuffer().catch(() => undefined);
    throw new ChatError('unreachable', `The storage did not deliver the file (HTTP ${response.status}).`);
  }
  const total = blobSize(attachment.size);
  let received = 0;
  const reader = response.body.getReader();
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value.length;
        options.onProgress?.(Math.min(received, total), total);
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  try {
    for await (const plain of decryptBlob(source(), attachment.size, attachment.key, attachment.hash))
      await sink(plain);
  } finally {
    await response.body.cancel().catch(() => undefined);
  }
}

/** Downloads an attachment into memory: the verified plaintext, or a rejection (see downloadFile). */
export async function downloadBytes(
  session: ChatSession,
  attachment: Attachment,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  const out = new Uint8Array(attachment.size);
  let at = 0;
  await downloadFile(
    session,
    attachment,
    (plain) => {
      out.set(plain, at);
      at += plain.length;
    },
    options,
  );
  return out;
}

/**
 * Reports "done" with a blob: a recipient has it (or gives up on it), or its uploader cancels it.
 * Resolves with whether this deleted it (the last recipient, or the uploader).
 */
export async function finishDownload(session: ChatSession, blob: BlobId): Promise<boolean> {
  const answer = await session.request('blobDone', { id: requestId(), blob }, ANSWERS);
  return answer.deleted === true;
}
