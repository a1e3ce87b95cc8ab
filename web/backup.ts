/**
 * The Threema Safe backup panel: backing up the identity's key and contacts (with their names and
 * verification levels), and restoring an identity from a backup (checked against the key the
 * directory has for it). Its messages show next to its button (`#backup-status`); further options
 * of the panel (e.g. protecting the backup with a short password) go in `#backup-options`.
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import type { BrowserKeyStore } from '../client/keystore.ts';
import { contactsFromBackup, identityBackup, keysFromBackup } from '../client/safe/identity.ts';
import { backupToSafe, restoreFromSafe } from '../client/safe/index.ts';
import type { Config } from './config.ts';
import type { Contacts } from './contacts.ts';
import type { Start } from './identity.ts';
import { $, normaliseId, say } from './page.ts';

const progress = (ms: number) => say(`Deriving the backup key… ${(ms / 1000).toFixed(1)} s`);

export async function backUp(config: Config, me: IdentityKeys, contacts: Contacts): Promise<void> {
  const field = $<HTMLInputElement>('backup-password');
  const status = $('backup-status');
  status.textContent = 'Deriving the backup key…';
  try {
    const { bytes, config: safe } = await backupToSafe({
      server: config.safeUrl,
      identity: me.identity,
      password: field.value,
      backup: identityBackup(me, { device: 'Switchyard web', contacts: contacts.forBackup() }),
      onProgress: (ms) => {
        status.textContent = `Deriving the backup key… ${(ms / 1000).toFixed(1)} s`;
      },
    });
    field.value = '';
    say('');
    status.textContent = `Backup stored: ${bytes} encrypted bytes, kept ${safe.retentionDays} days after the last backup.`;
  } catch (error) {
    status.textContent = '';
    throw error;
  }
}

export async function restore(
  page: { readonly config: Config; readonly directory: DirectoryClient; readonly store: BrowserKeyStore },
  start: Start,
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
  await page.store.save({ identity, keys }, { passphrase });
  password.value = '';
  const restored = contactsFromBackup(backup);
  await start({ identity: { identity, keys }, passphrase, restored });
  say(`Restored from the backup, with ${restored.length} contact${restored.length === 1 ? '' : 's'}.`);
}
