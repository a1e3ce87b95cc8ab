/**
 * The identity on this device: creating one (registered in the directory, its key saved in the
 * IndexedDB key store, sealed when a passphrase is given), unlocking it, and forgetting it.
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import type { BrowserKeyStore } from '../client/keystore.ts';
import { generateKeyPair } from '../protocol/crypto.ts';
import type { ChatView } from './chat.ts';
import type { Contacts } from './contacts.ts';
import { $, say } from './page.ts';

export async function createIdentity(
  directory: DirectoryClient,
  store: BrowserKeyStore,
  start: (identity: IdentityKeys) => Promise<void>,
): Promise<void> {
  const passphrase = $<HTMLInputElement>('create-passphrase').value;
  say('Creating your identity…');
  const keys = generateKeyPair();
  const identity = await directory.createIdentity(keys);
  say(passphrase ? 'Locking the key with your passphrase…' : 'Saving the key on this device…');
  await store.save({ identity, keys }, { passphrase });
  $<HTMLInputElement>('create-passphrase').value = '';
  await start({ identity, keys });
}

export async function unlock(
  store: BrowserKeyStore,
  start: (identity: IdentityKeys) => Promise<void>,
): Promise<void> {
  say('Unlocking…');
  const field = $<HTMLInputElement>('unlock-passphrase');
  const identity = await store.load(field.value);
  field.value = '';
  await start(identity);
}

export async function forget(chat: ChatView, store: BrowserKeyStore, contacts: Contacts): Promise<void> {
  if (!confirm('Forget this identity on this device? Without a Safe backup it cannot be restored.')) return;
  if (chat.online) await chat.goOffline();
  await store.forget();
  contacts.forget();
  location.reload();
}
