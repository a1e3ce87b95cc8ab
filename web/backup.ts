/**
 * Threema-compatible Safe backups: backing up the identity's key and contacts, and restoring an
 * identity from a backup (checked against the key the directory has for it).
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import type { BrowserKeyStore } from '../client/keystore.ts';
import { identityBackup, keysFromBackup } from '../client/safe/identity.ts';
import { backupToSafe, restoreFromSafe } from '../client/safe/index.ts';
import { fromBase64 } from '../protocol/bytes.ts';
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
    backup: identityBackup(me, {
      device: 'Switchyard web',
      contacts: contacts.entries().map(([identity, publicKey]) => ({ identity, publicKey })),
    }),
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
  // The backup must hold the key the directory has for this ID, or the chat server would refuse it.
  const keys = keysFromBackup(backup, (await page.directory.lookup(identity))?.publicKey);
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
