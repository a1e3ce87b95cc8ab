/**
 * The identity on this device: creating one (registered in the directory, its key saved in the
 * IndexedDB key store, sealed when a passphrase is given), unlocking it, and forgetting it.
 */
import type { DirectoryClient } from '../client/directory/client.ts';
import type { BrowserKeyStore } from '../client/keystore.ts';
import { generateKeyPair } from '../protocol/crypto.ts';
import type { ChatView, StartOptions } from './chat.ts';
import { STORE_NAME } from './config.ts';
import { $, say } from './page.ts';
import { DeviceStore } from './store.ts';

export type Start = (options: StartOptions) => Promise<void>;

export async function createIdentity(
  directory: DirectoryClient,
  store: BrowserKeyStore,
  start: Start,
): Promise<void> {
  const passphrase = $<HTMLInputElement>('create-passphrase').value;
  say('Creating your identity…');
  const keys = generateKeyPair();
  const identity = await directory.createIdentity(keys);
  say(passphrase ? 'Locking the key with your passphrase…' : 'Saving the key on this device…');
  await store.save({ identity, keys }, { passphrase });
  $<HTMLInputElement>('create-passphrase').value = '';
  await start({ identity: { identity, keys }, passphrase });
}

export async function unlock(store: BrowserKeyStore, start: Start): Promise<void> {
  say('Unlocking…');
  const field = $<HTMLInputElement>('unlock-passphrase');
  const passphrase = field.value;
  const identity = await store.load(passphrase);
  field.value = '';
  await start({ identity, passphrase });
}

/** Deletes the key, the conversations and the contacts from this device (after asking). */
export async function forget(chat: ChatView, store: BrowserKeyStore): Promise<void> {
  if (!confirm('Forget this identity on this device? Without a Safe backup it cannot be restored.')) return;
  await chat.stop();
  await store.forget();
  await DeviceStore.destroy(STORE_NAME);
  location.reload();
}
