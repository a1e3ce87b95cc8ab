/**
 * The Threema Safe backup panel: backing up the identity's key and contacts (with their names and
 * verification levels), and restoring an identity from a backup (checked against the key the
 * directory has for it). Its messages show next to its button (`#backup-status`). With the option
 * in `#backup-options` ticked, the backup is protected by a short password kept in the vault
 * instead of the Safe password, and the restore form's matching checkbox restores one (./protect.ts).
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import type { BrowserKeyStore } from '../client/keystore.ts';
import type { SafeBackup } from '../client/safe/format.ts';
import { contactsFromBackup, identityBackup, keysFromBackup } from '../client/safe/identity.ts';
import { backupToSafe, restoreFromSafe } from '../client/safe/index.ts';
import type { Config } from './config.ts';
import type { Contacts } from './contacts.ts';
import type { Start } from './identity.ts';
import { $, normaliseId, say } from './page.ts';
import { protectBackup, restoreProtected } from './protect.ts';

const progress = (ms: number) => say(`Deriving the backup key… ${(ms / 1000).toFixed(1)} s`);

export async function backUp(config: Config, me: IdentityKeys, contacts: Contacts): Promise<void> {
  const status = $('backup-status');
  const show = (text: string) => {
    status.textContent = text;
  };
  const backup = identityBackup(me, { device: 'Switchyard web', contacts: contacts.forBackup() });
  try {
    show(
      $<HTMLInputElement>('backup-vault').checked
        ? await protectBackup(config, me, backup, show)
        : await backUpPlain(config, me, backup, show),
    );
    say('');
  } catch (error) {
    show('');
    throw error;
  }
}

/** A Threema Safe backup: named and encrypted by keys derived from the ID and the Safe password. */
async function backUpPlain(
  config: Config,
  me: IdentityKeys,
  backup: SafeBackup,
  show: (text: string) => void,
): Promise<string> {
  const field = $<HTMLInputElement>('backup-password');
  show('Deriving the backup key…');
  const { bytes, config: safe } = await backupToSafe({
    server: config.safeUrl,
    identity: me.identity,
    password: field.value,
    backup,
    onProgress: (ms) => show(`Deriving the backup key… ${(ms / 1000).toFixed(1)} s`),
  });
  field.value = '';
  return `Backup stored: ${bytes} encrypted bytes, kept ${safe.retentionDays} days after the last backup.`;
}

export async function restore(
  page: { readonly config: Config; readonly directory: DirectoryClient; readonly store: BrowserKeyStore },
  start: Start,
): Promise<void> {
  const identity = normaliseId($<HTMLInputElement>('restore-id').value);
  const passphrase = $<HTMLInputElement>('restore-passphrase').value;
  const backup = $<HTMLInputElement>('restore-vault').checked
    ? await restoreProtected(page.config, identity)
    : await restorePlain(page.config, identity);
  // The backup must hold the key the directory has for this ID, or the chat server would refuse it.
  const keys = keysFromBackup(backup, (await page.directory.lookup(identity))?.publicKey);
  await page.store.save({ identity, keys }, { passphrase });
  for (const id of ['restore-password', 'restore-short-password']) $<HTMLInputElement>(id).value = '';
  const restored = contactsFromBackup(backup);
  await start({ identity: { identity, keys }, passphrase, restored });
  say(`Restored from the backup, with ${restored.length} contact${restored.length === 1 ? '' : 's'}.`);
}

async function restorePlain(config: Config, identity: string): Promise<SafeBackup> {
  const { backup } = await restoreFromSafe({
    server: config.safeUrl,
    identity,
    password: $<HTMLInputElement>('restore-password').value,
    onProgress: progress,
  });
  return backup;
}
