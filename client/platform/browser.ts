/**
 * The browser's versions of ./node.ts (swapped in by package.json's `browser` field): scrypt from
 * @noble/hashes (pure JS; its async form yields to the event loop so the page stays responsive) and
 * gzip from fflate (pure JS, synchronous like Node's zlib). Same signatures, same bytes.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { gunzipSync, gzipSync } from 'fflate';
import type { scrypt as nodeScrypt } from './node.ts';

export const scrypt: typeof nodeScrypt = (password, salt, params, length) =>
  scryptAsync(password, salt, { ...params, dkLen: length, maxmem: 256 * params.N * params.r });

export function gzipStored(data: Uint8Array): Uint8Array {
  return gzipSync(data, { level: 0 });
}

function uint32le(data: Uint8Array, at: number): number {
  return (data[at]! | (data[at + 1]! << 8) | (data[at + 2]! << 16) | (data[at + 3]! << 24)) >>> 0;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function gunzip(data: Uint8Array, maxBytes: number): Uint8Array {
  if (data.length < 18) throw new Error('not gzip data');
  // The trailer: CRC-32 and ISIZE (the uncompressed length mod 2^32).
  const size = uint32le(data, data.length - 4);
  if (size > maxBytes) throw new Error('gzip data inflates beyond the limit');
  // A fixed output buffer: data that inflates beyond what its trailer declares fails instead of growing.
  const out = new Uint8Array(size);
  const inflated = gunzipSync(data, { out });
  if (inflated.length !== size || crc32(inflated) !== uint32le(data, data.length - 8))
    throw new Error('gzip data does not match its trailer');
  return inflated;
}
