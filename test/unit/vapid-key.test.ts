/**
 * The VAPID key pair's stored form. Node's ECDH gives a private key whose first byte is zero (1 in
 * 256) one byte short; such a pair must still be written at 32 bytes and read back, or the first
 * start of `npm start` fails, and on AWS the write-once secret holds a pair no push function reads.
 */
import { createECDH, type ECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createVapidKeyFile, vapidKeyFileOf, vapidKeys } from '../../lambdas/adapters/wake/webpush.ts';
import { toB64Url } from '../../protocol/push-targets.ts';

/** A generated pair whose private scalar starts with a zero byte (found by trying: about 256 tries). */
function shortScalarPair(): ECDH {
  for (let tries = 0; tries < 100_000; tries++) {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    if (ecdh.getPrivateKey().length < 32) return ecdh;
  }
  throw new Error('no key with a leading zero byte in 100 000 tries');
}

const scalarBytes = (privateKey: string) => Buffer.from(privateKey, 'base64url').length;

describe('the VAPID key file', () => {
  it('stores a private key whose scalar starts with a zero byte at its full 32 bytes, and reads it back', () => {
    const ecdh = shortScalarPair();
    const file = vapidKeyFileOf(ecdh);
    expect(scalarBytes(file.privateKey)).toBe(32);
    expect(Buffer.from(vapidKeys(file).publicKey)).toEqual(ecdh.getPublicKey());
  });

  it('reads a pair stored with the short scalar (as an earlier version wrote it)', () => {
    const ecdh = shortScalarPair();
    const stored = {
      publicKey: toB64Url(new Uint8Array(ecdh.getPublicKey())),
      privateKey: toB64Url(new Uint8Array(ecdh.getPrivateKey())),
    };
    expect(scalarBytes(stored.privateKey)).toBeLessThan(32);
    expect(Buffer.from(vapidKeys(stored).publicKey)).toEqual(ecdh.getPublicKey());
  });

  it('makes pairs that read back', () => {
    for (let round = 0; round < 50; round++) {
      const file = createVapidKeyFile();
      expect(scalarBytes(file.privateKey)).toBe(32);
      expect(toB64Url(vapidKeys(file).publicKey)).toBe(file.publicKey);
    }
  });

  it('refuses a damaged pair: halves that do not match, a scalar too long, not base64url', () => {
    const file = createVapidKeyFile();
    const other = createVapidKeyFile();
    expect(() => vapidKeys({ ...file, privateKey: other.privateKey })).toThrow('does not match');
    expect(() => vapidKeys({ ...file, privateKey: toB64Url(new Uint8Array(33).fill(1)) })).toThrow(
      'wrong length',
    );
    expect(() => vapidKeys({ ...file, privateKey: 'not base64url!' })).toThrow('not base64url');
    expect(() => vapidKeys({ ...file, privateKey: 7 })).toThrow('not base64url');
  });
});
