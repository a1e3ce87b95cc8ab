import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, portable, toBase64, toHex } from '../../protocol/bytes.ts';

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
