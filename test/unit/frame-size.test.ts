import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxTextBytes } from '../../client/chat/content.ts';
import { b64, maxSendBodyBytes, sealedFrameBytes, sealFrame, sendFrameBytes } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

describe('session frame sizes', () => {
  it('predicts the exact size of a sealed frame without sealing it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.jsonValue(), (action, payload) => {
        const frame = sealFrame(action, payload, randomBytes(32), randomBytes(24));
        expect(sealedFrameBytes(action, payload)).toBe(utf8Length(frame));
      }),
      { numRuns: 300 },
    );
  });

  it('predicts the size of a send frame for any body, recipient count and flags', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000 }),
        fc.integer({ min: 1, max: LIMITS.maxRecipients }),
        fc.constantFrom(0, 0x01, 0x20, 0x80, 0xa7),
        (bodyBytes, recipients, flags) => {
          const to = Array.from({ length: recipients }, (_, i) => ({
            identity: `ABCD${String(i).padStart(4, '0')}`,
            nonce: b64(randomBytes(24)),
            box: b64(new Uint8Array(bodyBytes + 16)),
          }));
          const frame = sealFrame(
            'send',
            { id: b64(randomBytes(8)), flags, to },
            randomBytes(32),
            randomBytes(24),
          );
          expect(sendFrameBytes(bodyBytes, recipients, flags)).toBe(utf8Length(frame));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('grows a send payload by 9 bytes for `ack` and 41 per acked message, as PROTOCOL.md states', () => {
    const payload = { id: b64(randomBytes(8)), flags: 0, to: [] };
    const ref = { sender: 'ABCD1234', id: b64(randomBytes(8)) };
    for (const count of [1, 2, LIMITS.ackMaxMessages]) {
      const ack = Array.from({ length: count }, () => ref);
      const grown = JSON.stringify({ ...payload, ack }).length - JSON.stringify(payload).length;
      expect(grown).toBe(9 + 41 * count + (count - 1));
    }
  });

  it('names the largest body that fits one frame, as PROTOCOL.md states', () => {
    expect(maxSendBodyBytes(1, 0)).toBe(18_278);
    expect(maxSendBodyBytes(1, 0xa7)).toBe(18_275);
    for (const recipients of [1, 2, 5, LIMITS.maxRecipients]) {
      const max = maxSendBodyBytes(recipients);
      expect(sendFrameBytes(max, recipients)).toBeLessThanOrEqual(LIMITS.wsFrameBytes);
      expect(sendFrameBytes(max + 1, recipients)).toBeGreaterThan(LIMITS.wsFrameBytes);
    }
    // A text: type byte + UTF-8 + up to 255 bytes of padding must fit.
    expect(maxTextBytes()).toBe(18_022);
    expect(sendFrameBytes(1 + maxTextBytes() + 255)).toBeLessThanOrEqual(LIMITS.wsFrameBytes);
  });
});
