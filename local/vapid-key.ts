/**
 * The VAPID key pair (Web Push, RFC 8292), made at first start and kept in DATA_DIR (mode 0600),
 * like the server key. Push services tie each subscription to the key it was made with: losing it
 * means every browser must subscribe again. On AWS the same pair lives in Secrets Manager.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createVapidKeyFile, type VapidKeyFile, vapidKeys } from '../lambdas/adapters/wake/webpush.ts';

export const VAPID_KEY_FILE = 'vapid-key.json';

export function loadOrCreateVapidKey(dataDir: string): VapidKeyFile {
  const path = join(dataDir, VAPID_KEY_FILE);
  if (existsSync(path)) {
    let stored: VapidKeyFile;
    try {
      stored = JSON.parse(readFileSync(path, 'utf8')) as VapidKeyFile;
      vapidKeys(stored);
    } catch {
      throw new Error(`${VAPID_KEY_FILE} in the data folder is damaged; remove it to make a new key pair`);
    }
    chmodSync(path, 0o600);
    return stored;
  }
  const pair = createVapidKeyFile();
  writeFileSync(path, `${JSON.stringify(pair)}\n`, { mode: 0o600, flag: 'wx' });
  return pair;
}

/** A JSON credentials file named by a setting (FCM service account, APNs key); errors name the setting. */
export function readCredentialsFile(path: string, setting: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new Error(`${setting}: the file cannot be read as JSON`);
  }
}
