/**
 * The client's proof-of-work search (protocol/work.ts) against the construction as written,
 * recomputed with node:crypto: the stamp it returns is SHA-256(seed ‖ nonce) with enough zero bits.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkWork, leadingZeroBits, solveWork, WORK_NONCE_BYTES } from '../../protocol/work.ts';

const stamp = (seed: Uint8Array, nonce: Uint8Array) =>
  new Uint8Array(createHash('sha256').update(seed).update(nonce).digest());

describe('solveWork', () => {
  it('returns an 8-byte nonce whose SHA-256(seed ‖ nonce) has the leading zero bits asked for', async () => {
    for (const bits of [0, 6, 12]) {
      const seed = new Uint8Array(randomBytes(32));
      const nonce = await solveWork(seed, bits);
      expect(nonce).toHaveLength(WORK_NONCE_BYTES);
      expect(leadingZeroBits(stamp(seed, nonce))).toBeGreaterThanOrEqual(bits);
      expect(checkWork(seed, nonce, bits)).toBe(true);
    }
  });

  it('starts each search at a random nonce, so two searches for one seed differ', async () => {
    const seed = new Uint8Array(randomBytes(32));
    const [a, b] = await Promise.all([solveWork(seed, 4), solveWork(seed, 4)]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('is checked against the same seed only', async () => {
    const seed = new Uint8Array(randomBytes(32));
    const nonce = await solveWork(seed, 16);
    const other = new Uint8Array(randomBytes(32));
    // 1 in 65 536 that another seed's stamp has 16 zero bits as well.
    expect(leadingZeroBits(stamp(other, nonce))).toBeLessThan(16);
    expect(checkWork(other, nonce, 16)).toBe(false);
  });
});
