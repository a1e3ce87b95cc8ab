import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { decryptSafeBackup, encryptSafeBackup } from '../../client/safe/codec.ts';
import { BackupFormatError, InvalidInputError, WrongPasswordError } from '../../client/safe/errors.ts';
import { DecryptionError, secretboxOpen, secretboxSeal } from '../../protocol/crypto.ts';
import {
  referenceBackupJson,
  referenceDecrypt,
  referenceEncrypt,
} from '../support/threema-safe-reference.ts';

const key = () => nacl.randomBytes(32);

describe('Safe body codec', () => {
  it('round-trips JSON, with a fresh nonce every time', () => {
    const k = key();
    const json = referenceBackupJson();
    const a = encryptSafeBackup(json, k);
    const b = encryptSafeBackup(json, k);
    expect(Buffer.from(a.subarray(0, 24)).equals(Buffer.from(b.subarray(0, 24)))).toBe(false);
    expect(decryptSafeBackup(a, k)).toBe(json);
    expect(decryptSafeBackup(b, k)).toBe(json);
  });

  it('writes nonce ‖ secretbox(gzip level 0) that an independent reader opens', () => {
    const k = key();
    const json = referenceBackupJson({ note: 'ünïcödé ✓' });
    const body = encryptSafeBackup(json, k);
    expect(referenceDecrypt(body, k)).toBe(json);
    // Level 0: the JSON is stored, so it appears verbatim inside the opened gzip stream.
    const opened = nacl.secretbox.open(body.subarray(24), body.subarray(0, 24), k)!;
    expect(Buffer.from(opened).includes(Buffer.from(json, 'utf8'))).toBe(true);
    expect(gunzipSync(opened).toString('utf8')).toBe(json);
  });

  it('reads what the independent writer produced', () => {
    const k = key();
    const json = referenceBackupJson();
    expect(decryptSafeBackup(referenceEncrypt(json, k), k)).toBe(json);
  });

  it('reports the wrong key as a wrong password', () => {
    const body = encryptSafeBackup('{}', key());
    expect(() => decryptSafeBackup(body, key())).toThrow(WrongPasswordError);
  });

  it('reports a tampered body as a wrong password too (they cannot be told apart)', () => {
    const k = key();
    const body = encryptSafeBackup('{}', k);
    body[body.length - 1]! ^= 1;
    expect(() => decryptSafeBackup(body, k)).toThrow(WrongPasswordError);
  });

  it('refuses bodies too short to hold a nonce and a tag', () => {
    expect(() => decryptSafeBackup(new Uint8Array(39), key())).toThrow(BackupFormatError);
  });

  it('refuses a body that decrypts to something other than gzip', () => {
    const k = key();
    const nonce = nacl.randomBytes(24);
    const body = Buffer.concat([nonce, nacl.secretbox(Buffer.from('not gzip'), nonce, k)]);
    expect(() => decryptSafeBackup(body, k)).toThrow(/not gzip/);
  });

  it('fuzz: arbitrary bytes are a wrong password or a format error, never a crash', () => {
    const k = key();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decryptSafeBackup(bytes, k);
          expect.unreachable('random bytes decrypted');
        } catch (error) {
          expect(error instanceof WrongPasswordError || error instanceof BackupFormatError).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses keys and nonces of the wrong size', () => {
    expect(() => encryptSafeBackup('{}', new Uint8Array(31))).toThrow(InvalidInputError);
    expect(() => encryptSafeBackup('{}', key(), new Uint8Array(23))).toThrow(InvalidInputError);
  });
});

describe('secretbox wrapper', () => {
  it("turns tweetnacl's null into a DecryptionError", () => {
    const k = key();
    const nonce = nacl.randomBytes(24);
    const box = secretboxSeal(new Uint8Array([1, 2, 3]), nonce, k);
    expect(Array.from(secretboxOpen(box, nonce, k))).toEqual([1, 2, 3]);
    expect(() => secretboxOpen(box, nonce, key())).toThrow(DecryptionError);
  });

  it('refuses wrong key and nonce sizes before calling tweetnacl', () => {
    expect(() => secretboxSeal(new Uint8Array(1), new Uint8Array(24), new Uint8Array(16))).toThrow(/key/);
    expect(() => secretboxOpen(new Uint8Array(20), new Uint8Array(12), key())).toThrow(/nonce/);
  });
});
