/**
 * The encrypted blob format (docs/PROTOCOL.md, "Blob format"): a file is cut into chunks of
 * CHUNK_BYTES plaintext bytes (the last one shorter, or empty for an empty file), and each chunk is
 * a NaCl secretbox under the file's own random key:
 *
 *   blob    = box(0) ‖ box(1) ‖ … ‖ box(n − 1)          n = max(1, ⌈size / 65 536⌉)
 *   box(i)  = secretbox(chunk(i), nonce(i), key)       = MAC (16) ‖ ciphertext (len chunk(i))
 *   nonce(i) = final (1) ‖ 0x00 × 15 ‖ i (8, big-endian)    final = 0x01 for i = n − 1, else 0x00
 *
 * The key is fresh for every file, so counter nonces never repeat under one key. The chunk index
 * in the nonce refuses reordered chunks; the final flag refuses a blob cut at a chunk boundary
 * (its last box would be opened as final and fail). A receiver also checks the blob's exact size
 * and its SHA-256 (both in the attachment descriptor) before anything is shown.
 *
 * Both directions stream: one chunk in memory at a time, whatever the file's size.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { constantTimeEqual, DecryptionError, secretboxOpen, secretboxSeal } from '../../protocol/crypto.ts';

/** Plaintext bytes per chunk. */
export const CHUNK_BYTES = 64 * 1024;
/** secretbox's MAC. */
export const CHUNK_OVERHEAD_BYTES = 16;
export const BLOB_KEY_BYTES = 32;
export const BLOB_HASH_BYTES = 32;

/** Why a downloaded blob was refused. */
export class BlobVerificationError extends Error {
  constructor(
    readonly reason: 'truncated' | 'too_long' | 'tampered' | 'hash_mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'BlobVerificationError';
  }
}

/** How many chunks a file of `size` bytes has (an empty file has one, empty). */
export function chunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_BYTES));
}

/** The encrypted blob's exact size for a file of `size` bytes: what an upload declares. */
export function blobSize(size: number): number {
  return size + CHUNK_OVERHEAD_BYTES * chunkCount(size);
}

/** The nonce of chunk `index`, `final` for the last one. */
export function chunkNonce(index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(24);
  nonce[0] = final ? 0x01 : 0x00;
  new DataView(nonce.buffer).setBigUint64(16, BigInt(index));
  return nonce;
}

/** Reads `source` in pieces of exactly the lengths `sizes` yields (the last piece may come short). */
async function* exactPieces(
  source: AsyncIterable<Uint8Array>,
  sizes: Iterable<number>,
): AsyncGenerator<{ piece: Uint8Array; extra: boolean }> {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Uint8Array = new Uint8Array(0);
  let ended = false;
  for (const size of sizes) {
    const piece = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      if (pending.length === 0) {
        if (ended) break;
        const next = await iterator.next();
        if (next.done) {
          ended = true;
          break;
        }
        pending = next.value;
      }
      const take = Math.min(size - filled, pending.length);
      piece.set(pending.subarray(0, take), filled);
      filled += take;
      pending = pending.subarray(take);
    }
    if (filled < size) {
      yield { piece: piece.subarray(0, filled), extra: false };
      return;
    }
    yield { piece, extra: false };
  }
  // Anything after the expected pieces.
  while (pending.length === 0 && !ended) {
    const next = await iterator.next();
    if (next.done) ended = true;
    else pending = next.value;
  }
  if (pending.length > 0) yield { piece: pending, extra: true };
}

function* chunkSizes(size: number, overhead: number): Generator<number> {
  const count = chunkCount(size);
  for (let index = 0; index < count; index++)
    yield Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES) + overhead;
}

/**
 * Encrypts a file of exactly `size` bytes read from `source` into the blob format, chunk by chunk.
 * `hash` resolves to the blob's SHA-256 once the last chunk has been yielded. Throws if `source`
 * gives fewer or more bytes than `size`.
 */
export function encryptBlob(
  source: AsyncIterable<Uint8Array>,
  size: number,
  key: Uint8Array,
): { chunks: AsyncGenerator<Uint8Array>; hash: () => Uint8Array } {
  const digest = sha256.create();
  let finished: Uint8Array | undefined;
  const count = chunkCount(size);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let index = 0;
    for await (const { piece, extra } of exactPieces(source, chunkSizes(size, 0))) {
      if (extra) throw new Error('The file is longer than its declared size.');
      const expected = Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES);
      if (piece.length !== expected) throw new Error('The file is shorter than its declared size.');
      const box = secretboxSeal(piece, chunkNonce(index, index === count - 1), key);
      digest.update(box);
      index++;
      yield box;
    }
    finished = digest.digest();
  }
  return {
    chunks: chunks(),
    hash: () => {
      if (!finished) throw new Error('The blob has not been read to its end.');
      return finished;
    },
  };
}

/**
 * Decrypts a blob read from `source` for a file of `size` bytes, yielding each chunk's plaintext
 * once its MAC is verified. Throws BlobVerificationError for a blob that is cut short, too long,
 * altered, or whose SHA-256 is not `hash` — the last two checks only at the end, so a caller must
 * not show (or keep) anything before the generator has finished without an error.
 */
export async function* decryptBlob(
  source: AsyncIterable<Uint8Array>,
  size: number,
  key: Uint8Array,
  hash: Uint8Array,
): AsyncGenerator<Uint8Array> {
  const digest = sha256.create();
  const count = chunkCount(size);
  let index = 0;
  for await (const { piece, extra } of exactPieces(source, chunkSizes(size, CHUNK_OVERHEAD_BYTES))) {
    if (extra) throw new BlobVerificationError('too_long', 'The blob is longer than the attachment says.');
    const expected = Math.min(CHUNK_BYTES, size - index * CHUNK_BYTES) + CHUNK_OVERHEAD_BYTES;
    if (piece.length !== expected)
      throw new BlobVerificationError('truncated', 'The blob is shorter than the attachment says.');
    digest.update(piece);
    let plain: Uint8Array;
    try {
      plain = secretboxOpen(piece, chunkNonce(index, index === count - 1), key);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      throw new BlobVerificationError('tampered', 'The blob was altered: a chunk does not verify.');
    }
    index++;
    yield plain;
  }
  if (index < count)
    throw new BlobVerificationError('truncated', 'The blob is shorter than the attachment says.');
  if (!constantTimeEqual(digest.digest(), hash))
    throw new BlobVerificationError('hash_mismatch', "The blob's hash is not the attachment's.");
}
