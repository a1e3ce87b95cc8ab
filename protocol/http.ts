/**
 * HTTP requests as a gateway hands them to the server, before anything is decoded: the raw parts
 * the request parsers of protocol/directory-requests.ts and protocol/safe.ts take. No gateway event
 * types here: the handlers pass these parts, so the parsers stay independent of API Gateway.
 *
 *   body             the body as text, or (isBase64Encoded) standard base64 of its bytes
 *   headers          names lowercase, as HTTP API payload format 2.0 passes them
 */
import { fromBase64 } from './bytes.ts';
import { SwitchyardError } from './errors.ts';

/** A request body as the gateway passes it. */
export interface RawBody {
  readonly body?: string | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

export type RawHeaders = Readonly<Record<string, string | undefined>>;

/** The raw parts of an HTTP request that the parsers look at. */
export interface RawHttpRequest extends RawBody {
  readonly method: string | undefined;
  readonly headers?: RawHeaders | undefined;
}

/** A header by its lowercase name; other spellings are found too (be lenient). */
export function headerValue(headers: RawHeaders | undefined, name: string): string | undefined {
  const all = headers ?? {};
  if (all[name] !== undefined) return all[name];
  for (const [key, value] of Object.entries(all)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/**
 * Size first: refuses (`too_large`) a request whose declared `content-length` or actual body is over
 * `maxBytes`, before anything decodes or parses it. The actual size is computed from the text without
 * decoding it; a body over four times the limit in characters is over it whatever its encoding, so a
 * huge body is refused without being measured.
 */
export function checkBodySize(
  input: RawBody & { readonly headers?: RawHeaders | undefined },
  maxBytes: number,
): void {
  const declared = headerValue(input.headers, 'content-length');
  if (declared !== undefined && /^\s*[0-9]+\s*$/.test(declared) && Number(declared) > maxBytes)
    throw new SwitchyardError('too_large');
  const body = input.body;
  if (typeof body === 'string' && body.length > 0) {
    if (body.length > maxBytes * 4) throw new SwitchyardError('too_large');
    if (rawBodyByteLength(input) > maxBytes) throw new SwitchyardError('too_large');
  }
}

/**
 * The body's size in bytes, computed from the text without decoding it: for base64 the way Node's
 * `Buffer.byteLength(text, 'base64')` computes it (padding off, then 3/4 of the characters), for
 * text its UTF-8 length (a lone surrogate counts as the 3 bytes of U+FFFD).
 */
export function rawBodyByteLength(raw: RawBody): number {
  const text = raw.body;
  if (typeof text !== 'string' || text.length === 0) return 0;
  if (raw.isBase64Encoded) {
    let chars = text.length;
    if (text.charCodeAt(chars - 1) === 0x3d) chars--;
    if (chars > 1 && text.charCodeAt(chars - 1) === 0x3d) chars--;
    return (chars * 3) >>> 2;
  }
  return utf8ByteLength(text);
}

function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 4;
      index++;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

interface BufferLike {
  from(text: string, encoding: string): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/**
 * The body's bytes. The server runs on Node and decodes base64 with Buffer, as it always has
 * (lenient: API Gateway's own base64 is always well formed). Elsewhere base64 must be strict, and
 * anything else is `bad_request`.
 */
export function rawBodyBytes(raw: RawBody): Uint8Array {
  const text = raw.body;
  if (typeof text !== 'string') return new Uint8Array(0);
  if (!raw.isBase64Encoded) return new TextEncoder().encode(text);
  if (NodeBuffer) {
    const bytes = NodeBuffer.from(text, 'base64');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const bytes = fromBase64(text);
  if (!bytes) throw new SwitchyardError('bad_request');
  return bytes;
}
