/**
 * The server's long-term X25519 key, generated at first start and kept in DATA_DIR (mode 0600).
 * Clients pin its public key. On AWS the same key lives in Secrets Manager.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { generateKeyPair, type KeyPair, keyPairFromSecret } from '../protocol/crypto.ts';

export const SERVER_KEY_FILE = 'server-key.json';

export function loadOrCreateServerKey(dataDir: string): KeyPair {
  const path = join(dataDir, SERVER_KEY_FILE);
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { secretKey?: unknown };
    const secret = typeof stored.secretKey === 'string' ? fromHex(stored.secretKey) : undefined;
    if (!secret)
      throw new Error(`${SERVER_KEY_FILE} in the data folder is damaged; remove it to make a new key`);
    chmodSync(path, 0o600);
    return keyPairFromSecret(secret);
  }
  const pair = generateKeyPair();
  writeFileSync(path, `${JSON.stringify({ secretKey: toHex(pair.secretKey) })}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  return pair;
}
