/**
 * Threema-compatible Safe backups: backing up the identity's key and contacts, and restoring an
 * identity from a backup (checked against the key the directory has for it).
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import { type IdentityKeys, KeyFileError } from '../client/identity-record.ts';
import type { BrowserKeyStore } from '../client/keystore.ts';
import { backupToSafe, restoreFromSafe } from '../client/safe/index.ts';
import { fromBase64, toBase64, toHex } from '../protocol/bytes.ts';
import { keyPairFromSecret } from '../protocol/crypto.ts';
import type { Config } from './config.ts';
import type { Contacts } from './contacts.ts';
import { $, ID_PATTERN, normaliseId, say } from './page.ts';

const progress = (ms: number) => say(`Deriving the backup key… ${(ms / 1000).toFixed(1)} s`);

export async function backUp(config: Config, me: IdentityKeys, contacts: Contacts): Promise<void> {
  const field = $<HTMLInputElement>('backup-password');
  const { bytes, config: safe } = await backupToSafe({
    server: config.safeUrl,
    identity: me.identity,
    password: field.value,
    backup: {
      info: { version: 1, device: 'Switchyard web' },
      user: { privatekey: toBase64(me.keys.secretKey), nickname: me.identity },
      settings: {},
      contacts: contacts.entries().map(([identity, key]) => ({
        identity,
        publickey: toBase64(key),
        verification: 0,
        hidden: false,
      })),
    },
    onProgress: progress,
  });
  field.value = '';
  say(`Backup stored: ${bytes} encrypted bytes, kept ${safe.retentionDays} days after the last backup.`);
}

export async function restore(
  page: {
    readonly config: Config;
    readonly directory: DirectoryClient;
    readonly store: BrowserKeyStore;
    readonly contacts: Contacts;
  },
  start: (identity: IdentityKeys) => Promise<void>,
): Promise<void> {
  const identity = normaliseId($<HTMLInputElement>('restore-id').value);
  const password = $<HTMLInputElement>('restore-password');
  const passphrase = $<HTMLInputElement>('restore-passphrase').value;
  const { backup } = await restoreFromSafe({
    server: page.config.safeUrl,
    identity,
    password: password.value,
    onProgress: progress,
  });
  const secretKey = fromBase64(backup.user.privatekey);
  if (secretKey?.length !== 32) throw new KeyFileError('The backup holds no usable key.');
  const keys = keyPairFromSecret(secretKey);
  // The backup must hold the key the directory has for this ID, or the chat server would refuse it.
  const entry = await page.directory.lookup(identity);
  if (!entry?.publicKey) throw new KeyFileError('This ID is not active on this server.');
  if (toHex(entry.publicKey) !== toHex(keys.publicKey))
    throw new KeyFileError("The backup's key is not the key this ID is registered with.");
  for (const contact of backup.contacts ?? []) {
    const { identity: id, publickey } = (contact ?? {}) as Record<string, unknown>;
    const key = typeof publickey === 'string' ? fromBase64(publickey) : undefined;
    if (typeof id === 'string' && ID_PATTERN.test(id) && key?.length === 32) page.contacts.remember(id, key);
  }
  await page.store.save({ identity, keys }, { passphrase });
  password.value = '';
  say('Restored from the backup.');
  await start({ identity, keys });
}
