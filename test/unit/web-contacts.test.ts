/**
 * The browser client's contact pieces that need no browser: Safe backup contacts with local names
 * and verification levels (client/safe/identity.ts), the QR contact text and fingerprint
 * (web/contacts.ts), and the device store's keys (web/store.ts).
 */
import { describe, expect, it } from 'vitest';
import { contactsFromBackup, identityBackup } from '../../client/safe/identity.ts';
import { toBase64, toHex } from '../../protocol/bytes.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import { ensureIdentityId } from '../../protocol/identity.ts';
import { fingerprint, parseQrText, qrText } from '../../web/contacts.ts';
import { storeKeys } from '../../web/store.ts';

const me = { identity: ensureIdentityId('ECHOECHO'), keys: generateKeyPair() };

describe('Safe backup contacts', () => {
  it('round-trips names and verification levels through the backup, as Threema writes them', () => {
    const bob = generateKeyPair().publicKey;
    const carol = generateKeyPair().publicKey;
    const backup = identityBackup(me, {
      device: 'test',
      contacts: [
        { identity: 'BOBBOB12', publicKey: bob, name: 'Bob', verification: 2 },
        { identity: 'CAROL123', publicKey: carol },
      ],
    });
    expect(backup.contacts?.[0]).toMatchObject({ identity: 'BOBBOB12', firstname: 'Bob', verification: 2 });
    expect(backup.contacts?.[1]).not.toHaveProperty('firstname');
    expect(contactsFromBackup(JSON.parse(JSON.stringify(backup)))).toEqual([
      { identity: 'BOBBOB12', publicKey: bob, name: 'Bob', verification: 2 },
      { identity: 'CAROL123', publicKey: carol, verification: 0 },
    ]);
  });

  it('reads names from first and last name or the nickname, and skips entries it cannot use', () => {
    const key = toBase64(generateKeyPair().publicKey);
    const backup = {
      ...identityBackup(me, { device: 'test' }),
      contacts: [
        { identity: 'AAAAAAAA', publickey: key, firstname: ' Ada ', lastname: 'Lovelace', verification: 1 },
        { identity: 'BBBBBBBB', publickey: key, nickname: 'bee', verification: 7 },
        { identity: 'bad id', publickey: key },
        { identity: 'CCCCCCCC', publickey: 'c2hvcnQ=' },
        null,
        'DDDDDDDD',
      ],
    };
    expect(
      contactsFromBackup(backup).map(({ identity, name, verification }) => ({
        identity,
        name,
        verification,
      })),
    ).toEqual([
      { identity: 'AAAAAAAA', name: 'Ada Lovelace', verification: 1 },
      { identity: 'BBBBBBBB', name: 'bee', verification: 0 },
    ]);
  });
});

describe('contact codes', () => {
  it('writes and reads the QR text; refuses anything else', () => {
    const { publicKey } = generateKeyPair();
    const text = qrText('ABCD1234', publicKey);
    expect(text).toBe(`3mid:ABCD1234,${toHex(publicKey)}`);
    expect(parseQrText(` ${text.toUpperCase().replace('3MID', '3mid')} `)).toEqual({
      id: 'ABCD1234',
      publicKey,
    });
    for (const bad of [
      '',
      'ABCD1234',
      `3mid:abcd1234,${toHex(publicKey)}`,
      `3mid:ABCD1234,${toHex(publicKey).slice(2)}`,
      `3mid:ABCD1234,${'00'.repeat(32)}`,
    ])
      expect(() => parseQrText(bad)).toThrow('not a contact code');
  });

  it('shows a fingerprint of 16 bytes of SHA-256 of the key in groups of four', () => {
    // SHA-256 of 32 zero bytes starts 66687aadf862bd776c8fc18b8e9f8e20.
    expect(fingerprint(new Uint8Array(32))).toBe('6668 7aad f862 bd77 6c8f c18b 8e9f 8e20');
  });
});

describe('device store keys', () => {
  it('depend on the secret key and on the passphrase', () => {
    const secret = generateKeyPair().secretKey;
    const plain = storeKeys(secret, '');
    expect(plain.seal).toHaveLength(32);
    expect(toHex(plain.seal)).not.toBe(toHex(plain.index));
    expect(toHex(storeKeys(secret, '').seal)).toBe(toHex(plain.seal));
    expect(toHex(storeKeys(secret, 'passphrase').seal)).not.toBe(toHex(plain.seal));
    expect(toHex(storeKeys(generateKeyPair().secretKey, '').seal)).not.toBe(toHex(plain.seal));
  });
});
