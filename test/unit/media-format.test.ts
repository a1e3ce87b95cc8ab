/**
 * The blob format and the attachment descriptor, byte by byte as docs/PROTOCOL.md ("Media blobs")
 * states them, so an independent client built from the document interoperates.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { ContentError, decodeContent, encodeFile } from '../../client/chat/content.ts';
import {
  type Attachment,
  DescriptorError,
  decodeAttachment,
  encodeAttachment,
} from '../../client/media/descriptor.ts';
import {
  type BlobVerificationError,
  blobSize,
  CHUNK_BYTES,
  chunkNonce,
  decryptBlob,
  encryptBlob,
} from '../../client/media/format.ts';
import { toHex } from '../../protocol/bytes.ts';
import { parseBlobRef, parseBlobUpload } from '../../protocol/media.ts';

async function* pieces(bytes: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

const key = new Uint8Array(32).fill(7);

describe('blob format (PROTOCOL.md, "Blob format")', () => {
  it('is secretbox per 65 536-byte chunk with the documented nonces, and |blob| = size + 16n', async () => {
    const file = Uint8Array.from({ length: CHUNK_BYTES * 2 + 5 }, (_, i) => i % 251);
    const encrypted = encryptBlob(pieces(file, 4097), file.length, key);
    const blob = await collect(encrypted.chunks);
    expect(blob.length).toBe(blobSize(file.length));
    expect(blobSize(file.length)).toBe(file.length + 16 * 3);
    // Built by hand from the document: nonce = final ‖ 15 zero bytes ‖ index (8, big-endian).
    const nonce = (index: number, final: boolean) => {
      const n = new Uint8Array(24);
      n[0] = final ? 1 : 0;
      n[23] = index;
      return n;
    };
    expect(chunkNonce(2, true)).toEqual(nonce(2, true));
    const byHand = new Uint8Array(
      Buffer.concat([
        nacl.secretbox(file.subarray(0, CHUNK_BYTES), nonce(0, false), key),
        nacl.secretbox(file.subarray(CHUNK_BYTES, 2 * CHUNK_BYTES), nonce(1, false), key),
        nacl.secretbox(file.subarray(2 * CHUNK_BYTES), nonce(2, true), key),
      ]),
    );
    expect(toHex(blob)).toBe(toHex(byHand));
    expect(encrypted.hash()).toEqual(sha256(blob));
    expect(await collect(decryptBlob(pieces(blob, 999), file.length, key, sha256(blob)))).toEqual(file);
  });

  it('makes an empty file one empty final chunk (16 bytes)', async () => {
    const encrypted = encryptBlob(pieces(new Uint8Array(0)), 0, key);
    const blob = await collect(encrypted.chunks);
    expect(blob).toEqual(nacl.secretbox(new Uint8Array(0), chunkNonce(0, true), key));
    expect(await collect(decryptBlob(pieces(blob), 0, key, sha256(blob)))).toEqual(new Uint8Array(0));
  });

  it('refuses a blob that is cut at a chunk boundary, reordered, too long or altered', async () => {
    const file = new Uint8Array(CHUNK_BYTES * 2).fill(1);
    const blob = await collect(encryptBlob(pieces(file), file.length, key).chunks);
    const hash = sha256(blob);
    const box = CHUNK_BYTES + 16;
    const reason = (bytes: Uint8Array, size = file.length) =>
      collect(decryptBlob(pieces(bytes), size, key, hash)).then(
        () => 'accepted',
        (error: BlobVerificationError) => error.reason,
      );
    expect(await reason(blob.subarray(0, box))).toBe('truncated');
    // The first chunk alone, claimed as a one-chunk file: it was not sealed as final.
    expect(await reason(blob.subarray(0, box), CHUNK_BYTES)).toBe('tampered');
    expect(await reason(new Uint8Array(Buffer.concat([blob.subarray(box), blob.subarray(0, box)])))).toBe(
      'tampered',
    );
    expect(await reason(new Uint8Array(Buffer.concat([blob, new Uint8Array(1)])))).toBe('too_long');
    expect(await reason(blob.map((b, i) => (i === 5 ? b ^ 0x80 : b)))).toBe('tampered');
  });

  it('refuses to encrypt a source that does not have the declared size', async () => {
    await expect(collect(encryptBlob(pieces(new Uint8Array(10)), 11, key).chunks)).rejects.toThrow(/shorter/);
    await expect(collect(encryptBlob(pieces(new Uint8Array(12)), 11, key).chunks)).rejects.toThrow(/longer/);
  });
});

describe('attachment descriptor (PROTOCOL.md, "Attachment descriptor")', () => {
  const attachment: Attachment = {
    blob: '00112233445566778899aabbccddeeff' as Attachment['blob'],
    key: new Uint8Array(32).fill(0xaa),
    size: 0x0102030405,
    hash: new Uint8Array(32).fill(0xbb),
    mediaType: 'image/png',
    name: 'cat.png',
  };

  it('lays out version, blob id, key, size, hash, media type and name as documented', () => {
    const bytes = encodeAttachment(attachment);
    expect(toHex(bytes)).toBe(
      `01${'00112233445566778899aabbccddeeff'}${'aa'.repeat(32)}0000000102030405${'bb'.repeat(32)}` +
        `09${Buffer.from('image/png').toString('hex')}07${Buffer.from('cat.png').toString('hex')}`,
    );
    expect(bytes.length).toBe(91 + 9 + 7);
    expect(decodeAttachment(bytes)).toEqual(attachment);
  });

  it('travels as content type 0x02, padded like a text', () => {
    const content = encodeFile(encodeAttachment(attachment));
    expect(content[0]).toBe(0x02);
    const decoded = decodeContent(content);
    expect(decoded.type === 'file' && decodeAttachment(decoded.descriptor)).toEqual(attachment);
    expect(() => decodeContent(new Uint8Array([0x03, 1]))).toThrow(ContentError);
  });

  it('refuses another version, a wrong length, a path as name, a malformed media type', () => {
    const good = encodeAttachment(attachment);
    const bad = (change: (bytes: Uint8Array) => Uint8Array) => () => decodeAttachment(change(good.slice()));
    expect(bad((b) => new Uint8Array([2, ...b.subarray(1)]))).toThrow(DescriptorError);
    expect(bad((b) => b.subarray(0, b.length - 1))).toThrow(DescriptorError);
    expect(bad((b) => new Uint8Array([...b, 0]))).toThrow(DescriptorError);
    expect(() => encodeAttachment({ ...attachment, name: '../etc/passwd' })).toThrow(DescriptorError);
    expect(() => encodeAttachment({ ...attachment, mediaType: 'Image/PNG' })).toThrow(DescriptorError);
    const slash = encodeAttachment({ ...attachment, name: 'a_b' });
    slash[slash.length - 2] = '/'.charCodeAt(0);
    expect(() => decodeAttachment(slash)).toThrow(DescriptorError);
  });
});

describe('blob route payloads (PROTOCOL.md, "Blob routes")', () => {
  const id = Buffer.alloc(8).toString('base64');
  it('accepts exactly the documented fields and sizes', () => {
    expect(parseBlobUpload({ id, size: 100, to: ['ABCD1234'] }, 100)).toEqual({
      id,
      size: 100,
      to: ['ABCD1234'],
    });
    expect(() => parseBlobUpload({ id, size: 101, to: ['ABCD1234'] }, 100)).toThrow(
      expect.objectContaining({ code: 'too_large' }),
    );
    for (const payload of [
      { id, size: 0, to: ['ABCD1234'] },
      { id, size: 1.5, to: ['ABCD1234'] },
      { id, size: 1, to: [] },
      { id, size: 1, to: ['ABCD1234', 'ABCD1234'] },
      { id, size: 1, to: ['abcd1234'] },
      { id, size: 1, to: ['ABCD1234'], extra: 1 },
      { size: 1, to: ['ABCD1234'] },
    ])
      expect(() => parseBlobUpload(payload, 100), JSON.stringify(payload)).toThrow(
        expect.objectContaining({ code: 'bad_request' }),
      );
    expect(parseBlobRef({ id, blob: 'ab'.repeat(16) })).toEqual({ id, blob: 'ab'.repeat(16) });
    expect(() => parseBlobRef({ id, blob: 'AB'.repeat(16) })).toThrow(
      expect.objectContaining({ code: 'bad_request' }),
    );
  });
});
