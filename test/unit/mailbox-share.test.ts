/**
 * Who a full mailbox refuses (lambdas/adapters/mailbox/owner.ts `heavySenders`): the senders that
 * hold a share of its message or byte limit, and no one else, so a stranger who fills a mailbox
 * cannot lock its owner's other contacts out.
 */
import { describe, expect, it } from 'vitest';
import { heavySenders } from '../../lambdas/adapters/mailbox/owner.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';

const shareCount = LIMITS.mailboxMaxMessages / LIMITS.mailboxSenderShare;
const shareBytes = LIMITS.mailboxMaxBytes / LIMITS.mailboxSenderShare;
const id = (n: number) => `S${String(n).padStart(7, '0')}` as IdentityId;

describe('the senders holding a share of a mailbox', () => {
  it('are those at or over the message share or the byte share, most messages first', () => {
    const held = new Map([
      [id(1), { count: shareCount - 1, bytes: 1000 }],
      [id(2), { count: shareCount, bytes: 1000 }],
      [id(3), { count: 2, bytes: shareBytes }],
      [id(4), { count: shareCount + 50, bytes: 1000 }],
      [id(5), { count: 1, bytes: shareBytes - 1 }],
    ]);
    expect(heavySenders(held)).toEqual([id(4), id(2), id(3)]);
  });

  it('are at most LIMITS.mailboxHeavySendersMax, the heaviest kept', () => {
    const held = new Map(
      Array.from({ length: LIMITS.mailboxHeavySendersMax + 20 }, (_, n) => [
        id(n),
        { count: shareCount + n, bytes: 0 },
      ]),
    );
    const heavy = heavySenders(held);
    expect(heavy).toHaveLength(LIMITS.mailboxHeavySendersMax);
    expect(heavy[0]).toBe(id(LIMITS.mailboxHeavySendersMax + 19));
    expect(heavy).not.toContain(id(0));
  });
});
