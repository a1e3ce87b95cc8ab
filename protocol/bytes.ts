/**
 * Hex and base64 encoding of byte strings, strict on input, for Node and browsers alike.
 *
 * Node's Buffer is used where it exists (it is native and fast on the server's hot paths); browsers
 * have no Buffer and get the portable implementations below, which give the same strings
 * (test/unit/bytes.test.ts compares them).
 */

interface BufferLike {
  from(bytes: ArrayBufferLike, offset: number, length: number): { toString(encoding: string): string };
  from(text: string, encoding: string): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

const HEX = /^(?:[0-9a-f]{2})*$/;

/** Portable encoders without Buffer: what a browser runs. Exported for the tests. */
export const portable = {
  toHex(bytes: Uint8Array): string {
    let out = '';
    for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
    return out;
  },
  /** Lowercase hex (already checked) to bytes. */
  hexToBytes(text: string): Uint8Array {
    const out = new Uint8Array(text.length / 2);
    for (let index = 0; index < out.length; index++)
      out[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16);
    return out;
  },
  toBase64(bytes: Uint8Array): string {
    let binary = '';
    // In chunks: String.fromCharCode takes its bytes as arguments, and argument lists are bounded.
    for (let index = 0; index < bytes.length; index += 0x8000)
      binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
    return btoa(binary);
  },
  /** Standard base64 (already checked) to bytes. */
  base64ToBytes(text: string): Uint8Array {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let index = 0; index < binary.length; index++) out[index] = binary.charCodeAt(index);
    return out;
  },
};

export function toHex(bytes: Uint8Array): string {
  return NodeBuffer
    ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
    : portable.toHex(bytes);
}

/** Decodes lowercase hex; returns undefined for anything else (odd length, uppercase, other chars). */
export function fromHex(text: string): Uint8Array | undefined {
  if (!HEX.test(text)) return undefined;
  return NodeBuffer ? new Uint8Array(NodeBuffer.from(text, 'hex')) : portable.hexToBytes(text);
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return NodeBuffer
    ? NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
    : portable.toBase64(bytes);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard base64 with padding; returns undefined for anything else. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined;
  return NodeBuffer ? new Uint8Array(NodeBuffer.from(text, 'base64')) : portable.base64ToBytes(text);
}

/** The parts' bytes, one after another. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** BLAKE2b takes its salt and personalisation as exactly 16 bytes. */
export const BLAKE2B_PARAM_BYTES = 16;

/**
 * The UTF-8 bytes of a short ASCII label, zero-padded to {@link BLAKE2B_PARAM_BYTES}: how Threema's
 * constructions (and ours after them) spell BLAKE2b salts and personalisations like "3ma-csp".
 */
export function pad16(label: string): Uint8Array {
  const encoded = new TextEncoder().encode(label);
  if (encoded.length > BLAKE2B_PARAM_BYTES) throw new RangeError('label longer than 16 bytes');
  const bytes = new Uint8Array(BLAKE2B_PARAM_BYTES);
  bytes.set(encoded);
  return bytes;
}
