/**
 * The one wrapper around tweetnacl. Key sizes come from named constants; failures become typed
 * errors rather than `null`.
 */
import nacl from 'tweetnacl';

/** X25519 public and secret keys are 32 bytes. */
export const KEY_BYTES = nacl.box.publicKeyLength;

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export class CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

/** A fresh X25519 key pair from the platform's CSPRNG. */
export function generateKeyPair(): KeyPair {
  return nacl.box.keyPair();
}

/** The key pair for an X25519 secret key. */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.length !== KEY_BYTES) throw new CryptoError('secret key must be 32 bytes');
  return nacl.box.keyPair.fromSecretKey(secretKey);
}
