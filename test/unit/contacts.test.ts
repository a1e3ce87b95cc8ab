import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { contactHash, normaliseContact } from '../../protocol/contacts.ts';

describe('contact hashes', () => {
  it("match Threema's e-mail vector", () => {
    expect(toHex(contactHash('email', normaliseContact('email', '  Test@Threema.ch ')))).toBe(
      '1ea093239cc5f0e1b6ec81b866265b921f26dc4033025410063309f4d1a8ee2c',
    );
  });

  it("match Threema's phone vector, whatever the formatting", () => {
    for (const input of ['41791234567', '+41 79 123 45 67', '0041-79-123-45-67', '+41 (79) 123.45.67']) {
      expect(toHex(contactHash('phone', normaliseContact('phone', input)))).toBe(
        'ad398f4d7ebe63c6550a486cc6e07f9baa09bd9d8b3d8cb9d9be106d35a7fdbc',
      );
    }
  });

  it('refuses what is not an address', () => {
    for (const [kind, value] of [
      ['email', 'no-at-sign'],
      ['email', 'a@b@c'],
      ['phone', '12345'],
      ['phone', '+41 79 abc'],
      ['phone', '0123456789'],
    ] as const) {
      expect(() => normaliseContact(kind, value)).toThrow('Malformed request');
    }
  });
});
