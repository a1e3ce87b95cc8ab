import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from '../../protocol/crypto.ts';

describe('constant-time comparison', () => {
  it('is true exactly when both byte strings are equal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(constantTimeEqual(a, Uint8Array.from(a))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('tells apart strings that differ in one byte anywhere, or in length', () => {
    const a = new Uint8Array(32).fill(9);
    for (let index = 0; index < a.length; index++) {
      const b = Uint8Array.from(a);
      b[index] = (b[index] ?? 0) ^ 1;
      expect(constantTimeEqual(a, b)).toBe(false);
    }
    expect(constantTimeEqual(a, a.subarray(0, 31))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(1))).toBe(false);
  });
});
