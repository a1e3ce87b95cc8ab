/**
 * Media blob routes (docs/PROTOCOL.md, "Media blobs"): session frames on the chat socket, so every
 * request is made by the identity that logged in. Payloads are the sealed JSON of a session frame.
 *
 *   client → blobUpload   {"id": b64(8), "size": n, "to": ["ABCD1234", …]}
 *   server → blob         {"id", "blob": hex(16), "url", "fields": {…}, "expiresAt": ms}
 *   client → blobDownload {"id": b64(8), "blob": hex(16)}
 *   server → blob         {"id", "blob", "url", "size": n, "expiresAt": ms}
 *   client → blobDone     {"id": b64(8), "blob": hex(16)}
 *   server → blob         {"id", "blob", "deleted": bool}
 *   server → blobError    {"id", "code"}                          (nothing changed)
 *
 * `id` is the client's request id, echoed so answers can be matched to requests. `size` is the
 * exact size of the encrypted blob: the upload policy lets S3 accept that size and no other. The
 * blob bytes travel between the client and S3 only (a presigned POST, a presigned GET).
 */
import { toHex } from './bytes.ts';
import { fromB64, MESSAGE_ID_BYTES, onlyKeys } from './chat.ts';
import { SwitchyardError } from './errors.ts';
import { ensureIdentityId, type IdentityId } from './identity.ts';
import { LIMITS } from './limits.ts';

/** Actions of the blob routes, each its own API Gateway route. */
export const BLOB_ACTIONS = ['blobUpload', 'blobDownload', 'blobDone'] as const;
export type BlobAction = (typeof BLOB_ACTIONS)[number];

/** The server's answers: `blob` on success, `blobError` when refused. */
export const BLOB_REPLY = 'blob';
export const BLOB_ERROR = 'blobError';

/** A blob id: 128 random bits chosen by the server, written as 32 lowercase hex characters. */
export type BlobId = string & { readonly __brand: 'BlobId' };
export const BLOB_ID_BYTES = 16;
const BLOB_ID_PATTERN = /^[0-9a-f]{32}$/;

export function isBlobId(value: unknown): value is BlobId {
  return typeof value === 'string' && BLOB_ID_PATTERN.test(value);
}

export function ensureBlobId(value: unknown): BlobId {
  if (!isBlobId(value)) throw new SwitchyardError('bad_request');
  return value;
}

/** A blob id from 16 random bytes. */
export function blobIdFrom(bytes: Uint8Array): BlobId {
  if (bytes.length !== BLOB_ID_BYTES) throw new Error('a blob id is 16 bytes');
  return toHex(bytes) as BlobId;
}

/** The request id every blob frame carries (8 bytes, base64), echoed in the answer. */
export function requestIdOf(payload: Readonly<Record<string, unknown>>): string {
  fromB64(payload.id, MESSAGE_ID_BYTES);
  return payload.id as string;
}

export interface UploadRequest {
  readonly id: string;
  /** The encrypted blob's exact size in bytes, 1 … the deployment's largest blob. */
  readonly size: number;
  /** The identities that will download it, distinct; the blob is deleted when all are done. */
  readonly to: readonly IdentityId[];
}

/**
 * `blobUpload` payload. The size is checked against the deployment's limit here (`too_large`), so
 * an oversize request is refused before anything is stored.
 */
export function parseBlobUpload(
  payload: Readonly<Record<string, unknown>>,
  maxBlobBytes: number,
): UploadRequest {
  onlyKeys(payload, ['id', 'size', 'to']);
  const id = requestIdOf(payload);
  const size = payload.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1)
    throw new SwitchyardError('bad_request');
  if (size > maxBlobBytes) throw new SwitchyardError('too_large');
  const to = payload.to;
  if (!Array.isArray(to) || to.length === 0 || to.length > LIMITS.maxRecipients)
    throw new SwitchyardError('bad_request');
  const recipients = to.map(ensureIdentityId);
  if (new Set(recipients).size !== recipients.length) throw new SwitchyardError('bad_request');
  return { id, size, to: recipients };
}

export interface BlobRef {
  readonly id: string;
  readonly blob: BlobId;
}

/** `blobDownload` and `blobDone` payloads. */
export function parseBlobRef(payload: Readonly<Record<string, unknown>>): BlobRef {
  onlyKeys(payload, ['id', 'blob']);
  return { id: requestIdOf(payload), blob: ensureBlobId(payload.blob) };
}
