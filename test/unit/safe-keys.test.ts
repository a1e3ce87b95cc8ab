import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../client/safe/errors.ts';
import {
  checkSafePassword,
  deriveMasterKey,
  deriveSafeKeys,
  normaliseSafeIdentity,
  splitMasterKey,
} from '../../client/safe/keys.ts';
import { toHex } from '../../protocol/bytes.ts';

// Threema's own client test vector (threema-facts.md).
const VECTOR = {
  password: 'shootdeathstar',
  identity: 'ECHOECHO',
  masterKey:
    '066384d3695fbbd9f31a7d533900fd0cd8d1373beb6a28678522d2a49980c9c351c3d8d752fb6e1fd3199ead7f0895d6e3893ff691f2a5ee1976ed0897fc2f66',
  backupId: '066384d3695fbbd9f31a7d533900fd0cd8d1373beb6a28678522d2a49980c9c3',
  encryptionKey: '51c3d8d752fb6e1fd3199ead7f0895d6e3893ff691f2a5ee1976ed0897fc2f66',
};

describe('Safe key derivation', () => {
  it("reproduces Threema's test vector (shootdeathstar / ECHOECHO)", async () => {
    // One scrypt run (about 0.2 s) covers the master key and its split; the lowercase ID checks
    // that the salt is always the uppercase ID.
    const master = await deriveMasterKey(VECTOR.identity, VECTOR.password);
    expect(toHex(master)).toBe(VECTOR.masterKey);
    const keys = splitMasterKey(master);
    expect(keys.backupId).toBe(VECTOR.backupId);
    expect(toHex(keys.encryptionKey)).toBe(VECTOR.encryptionKey);
  });

  it('derives the same keys from a lowercase, space-padded ID', async () => {
    const keys = await deriveSafeKeys(' echoecho ', VECTOR.password);
    expect(keys.backupId).toBe(VECTOR.backupId);
    expect(toHex(keys.encryptionKey)).toBe(VECTOR.encryptionKey);
  });

  it('refuses IDs that are not 8 characters of A–Z and 0–9', () => {
    for (const id of ['', 'ECHOECH', 'ECHOECHOE', 'ECHO-CHO', '*THREEMA', 'ÉCHOECHO']) {
      expect(() => normaliseSafeIdentity(id)).toThrow(InvalidInputError);
    }
    expect(normaliseSafeIdentity('abcd1234')).toBe('ABCD1234');
  });

  it('bounds passwords to 8–4096 characters, as Threema does', () => {
    expect(() => checkSafePassword('1234567')).toThrow(/at least 8/);
    expect(() => checkSafePassword('x'.repeat(4097))).toThrow(/at most 4096/);
    expect(() => checkSafePassword('12345678')).not.toThrow();
    expect(() => checkSafePassword('x'.repeat(4096))).not.toThrow();
  });

  it('checks the inputs before spending time on scrypt', async () => {
    await expect(deriveSafeKeys('ECHOECHO', 'short')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(deriveSafeKeys('nope', VECTOR.password)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses a master key of the wrong length', () => {
    expect(() => splitMasterKey(new Uint8Array(63))).toThrow(InvalidInputError);
  });
});
