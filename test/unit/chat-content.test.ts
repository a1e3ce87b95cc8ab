import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTENT_TYPE,
  ContentError,
  decodeContent,
  encodeDeliveryReceipt,
  encodeText,
} from '../../client/chat/content.ts';
import { randomBytes } from '../../protocol/crypto.ts';

describe('message content (inside the box)', () => {
  it('round-trips texts and receipts, padded to at least 32 bytes with 1–255 bytes of padding', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const bytes = encodeText(text);
        const padding = bytes.at(-1)!;
        expect(bytes[0]).toBe(CONTENT_TYPE.text);
        expect(bytes.length).toBeGreaterThanOrEqual(32);
        expect(padding).toBeGreaterThanOrEqual(1);
        expect(padding).toBeLessThanOrEqual(255);
        expect(decodeContent(bytes)).toEqual({ type: 'text', text });
      }),
    );
    const ids = [randomBytes(8), randomBytes(8)];
    expect(decodeContent(encodeDeliveryReceipt(ids))).toEqual({ type: 'deliveryReceipt', ids });
  });

  it('gives a one-id receipt and a short text overlapping sizes, so size does not single out receipts', () => {
    const sizes = (make: () => Uint8Array) => new Set(Array.from({ length: 400 }, () => make().length));
    const receipts = sizes(() => encodeDeliveryReceipt([randomBytes(8)]));
    const texts = sizes(() => encodeText('ok, see you'));
    expect([...receipts].filter((size) => texts.has(size)).length).toBeGreaterThan(100);
  });

  it('refuses malformed content with a ContentError, never a crash', () => {
    const bad = [
      new Uint8Array([]),
      new Uint8Array([CONTENT_TYPE.text]),
      new Uint8Array([CONTENT_TYPE.text, 0x41, 0x03, 0x03]), // padding longer than it claims
      new Uint8Array([CONTENT_TYPE.text, 0x41, 0x01, 0x02]), // padding bytes disagree
      new Uint8Array([CONTENT_TYPE.text, 0xff, 0x01]), // not UTF-8
      new Uint8Array([0x42, 0x41, 0x01]), // unknown type
      new Uint8Array([CONTENT_TYPE.deliveryReceipt, 0x01, 1, 2, 3, 0x01]), // id not 8 bytes
      new Uint8Array([CONTENT_TYPE.deliveryReceipt, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 0x01]), // unknown status
    ];
    for (const bytes of bad) expect(() => decodeContent(bytes)).toThrow(ContentError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodeContent(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ContentError);
        }
      }),
    );
    expect(() => encodeDeliveryReceipt([])).toThrow(ContentError);
    expect(() => encodeDeliveryReceipt([randomBytes(7)])).toThrow(ContentError);
  });
});
