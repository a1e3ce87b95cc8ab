import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, fromHex, pad16, portable, toBase64, toHex } from '../../protocol/bytes.ts';

// Browsers have no Buffer and run the portable encoders; Node runs Buffer. They must agree.
describe('byte encodings', () => {
  it('give the same hex and base64 in browsers (portable) as in Node (Buffer)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        expect(portable.toHex(bytes)).toBe(toHex(bytes));
        expect(portable.toBase64(bytes)).toBe(toBase64(bytes));
        expect(portable.hexToBytes(toHex(bytes))).toEqual(bytes);
        expect(portable.base64ToBytes(toBase64(bytes))).toEqual(bytes);
      }),
      { numRuns: 60 },
    );
  });

  it('refuse anything but strict lowercase hex and padded standard base64', () => {
    for (const bad of ['0', 'AB', 'zz', '0g']) expect(fromHex(bad)).toBeUndefined();
    for (const bad of ['AAA', 'A===', 'AA-_', 'AAAA=']) expect(fromBase64(bad)).toBeUndefined();
    expect(fromBase64('AAE=')).toEqual(new Uint8Array([0, 1]));
  });
});

describe('byte helpers', () => {
  it('pad a BLAKE2b label with zeros to 16 bytes, and refuse a longer one', () => {
    expect(toHex(pad16('3ma-csp'))).toBe(`${toHex(new TextEncoder().encode('3ma-csp'))}${'00'.repeat(9)}`);
    expect(pad16('')).toEqual(new Uint8Array(16));
    expect(pad16('x'.repeat(16))).toEqual(new TextEncoder().encode('x'.repeat(16)));
    expect(() => pad16('x'.repeat(17))).toThrow(RangeError);
  });

  it('concatenate byte strings in order', () => {
    expect(concatBytes(new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3]))).toEqual(
      new Uint8Array([1, 2, 3]),
    );
    expect(concatBytes()).toEqual(new Uint8Array(0));
  });
});
