/** The raw HTTP parts the request parsers read (protocol/http.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerValue, rawBodyByteLength, rawBodyBytes } from '../../protocol/http.ts';

describe('raw request bodies', () => {
  it('measure a body without decoding it exactly as Node counts its bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.boolean(), (text, base64) => {
        const body = base64 ? Buffer.from(text).toString('base64') : text;
        const expected = Buffer.byteLength(body, base64 ? 'base64' : 'utf8');
        expect(rawBodyByteLength({ body, isBase64Encoded: base64 })).toBe(expected);
        expect(rawBodyBytes({ body, isBase64Encoded: base64 })).toEqual(
          new Uint8Array(Buffer.from(body, base64 ? 'base64' : 'utf8')),
        );
      }),
      { numRuns: 1000 },
    );
    // Lone surrogates count as U+FFFD (3 bytes), as Node counts them.
    expect(rawBodyByteLength({ body: '\uD800x\uDC00' })).toBe(Buffer.byteLength('\uD800x\uDC00'));
    expect(rawBodyByteLength({ body: 'QUJD', isBase64Encoded: true })).toBe(3);
    expect(rawBodyByteLength({ body: 'QUI=', isBase64Encoded: true })).toBe(2);
    expect(rawBodyByteLength({})).toBe(0);
    expect(rawBodyBytes({})).toEqual(new Uint8Array(0));
  });

  it('find a header by its lowercase name whatever its spelling', () => {
    expect(headerValue({ 'content-length': '3' }, 'content-length')).toBe('3');
    expect(headerValue({ Authorization: 'Basic x' }, 'authorization')).toBe('Basic x');
    expect(headerValue(undefined, 'authorization')).toBeUndefined();
  });
});
