/**
 * A secret the stack creates empty and a function fills once (lambdas/adapters/write-once-secret.ts):
 * the vault's OPRF setup and the VAPID key pair. Cold starts race; the first write wins and every
 * container ends with the winner's value. A stored value is never overwritten.
 */
import { describe, expect, it } from 'vitest';
import { loadWriteOnce, type WriteOnceSecret } from '../../lambdas/adapters/write-once-secret.ts';

/** A secret like Secrets Manager under one client request token: the first write wins. */
function secretStub(initial?: string) {
  let value = initial;
  const writes: string[] = [];
  const secret: WriteOnceSecret & { race?: string } = {
    async read() {
      return value;
    },
    async initialise(candidate) {
      writes.push(candidate);
      // Another container wrote between this one's read and its write.
      if (secret.race !== undefined) value = secret.race;
      if (value !== undefined) return false;
      value = candidate;
      return true;
    },
  };
  return { secret, writes, current: () => value };
}

const parse = (text: string | undefined) => (text?.startsWith('ok:') ? text : undefined);

describe('a write-once secret', () => {
  it('returns a stored valid value and writes nothing', async () => {
    const { secret, writes } = secretStub('ok:stored');
    expect(await loadWriteOnce(secret, parse, () => 'ok:fresh')).toBe('ok:stored');
    expect(writes).toEqual([]);
  });

  it('makes and writes a value when the secret is empty', async () => {
    const { secret, writes, current } = secretStub();
    expect(await loadWriteOnce(secret, parse, () => 'ok:fresh')).toBe('ok:fresh');
    expect(writes).toEqual(['ok:fresh']);
    expect(current()).toBe('ok:fresh');
  });

  it("takes the winner's value when another container wrote first", async () => {
    const { secret, current } = secretStub();
    secret.race = 'ok:winner';
    expect(await loadWriteOnce(secret, parse, () => 'ok:loser')).toBe('ok:winner');
    expect(current()).toBe('ok:winner');
  });

  it('never overwrites a stored value it cannot read, and fails as unavailable', async () => {
    const { secret, current } = secretStub('garbage');
    await expect(loadWriteOnce(secret, parse, () => 'ok:fresh')).rejects.toMatchObject({
      code: 'unavailable',
    });
    expect(current()).toBe('garbage');
  });
});
