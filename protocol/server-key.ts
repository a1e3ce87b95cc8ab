/**
 * The server's long-term key as stored: either 64 hex characters (a key made elsewhere, e.g. the
 * local runner's `server-key.json`) or any other string of at least 32 characters (as Secrets
 * Manager generates one), whose SHA-256 is the X25519 secret key. Clients pin the public key.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from './bytes.ts';
import { keyPairFromSecret } from './crypto.ts';

export class ServerKeyFormatError extends Error {
  constructor() {
    super('The server key must be 64 hex characters or a random string of at least 32 characters');
    this.name = 'ServerKeyFormatError';
  }
}

/** The X25519 secret key a stored string stands for. */
export function serverSecretKeyFromString(value: string | undefined): Uint8Array {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length < 32 || text.length > 4096) throw new ServerKeyFormatError();
  return /^[0-9a-f]{64}$/.test(text) ? fromHex(text)! : sha256(new TextEncoder().encode(text));
}

/** The public key (hex) clients pin, for a stored string. */
export function serverPublicKeyHex(value: string | undefined): string {
  return toHex(keyPairFromSecret(serverSecretKeyFromString(value)).publicKey);
}
