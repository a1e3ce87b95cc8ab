/**
 * The Switchyard browser client: the page at `/`. It uses the same SDK as the CLI (client/): the
 * directory client to create and look up identities, a ChatSession + Messenger for end-to-end
 * encrypted texts with delivery state, the Safe SDK for Threema-compatible backups, and the
 * IndexedDB key store for the identity (its secret key sealed when a passphrase is given).
 *
 * This file starts the page and wires its forms; the parts live next to it: config.ts (config.json
 * and the profile), page.ts (shared DOM helpers and error texts), identity.ts (create, unlock,
 * forget), chat.ts (connection, sending, the message list), seen.ts ("what the server saw"),
 * backup.ts (Safe backup and restore) and contacts.ts. Nothing here logs: identifiers are only
 * shown to their owner.
 */

import { DirectoryClient } from '../client/directory/client.ts';
import { BrowserKeyStore } from '../client/keystore.ts';
import { backUp, restore } from './backup.ts';
import { ChatView } from './chat.ts';
import { CONTACTS_KEY, type Config, DB_NAME, loadConfig } from './config.ts';
import { Contacts } from './contacts.ts';
import { createIdentity, forget, unlock } from './identity.ts';
import { $, explain, fail, onSubmit, say, show } from './page.ts';
import { pushSupported } from './push.ts';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = await loadConfig();
  } catch {
    fail('This page has no usable config.json (the server URLs and key); see the README.');
    return;
  }
  const directory = new DirectoryClient({ server: config.httpUrl });
  const store = await BrowserKeyStore.open(DB_NAME);
  const contacts = new Contacts(CONTACTS_KEY, directory);
  contacts.load();
  const chat = new ChatView(config, directory, contacts);
  const start = chat.start.bind(chat);

  onSubmit('create-form', () => createIdentity(directory, store, start));
  onSubmit('unlock-form', () => unlock(store, start));
  onSubmit('restore-form', () => restore({ config, directory, store, contacts }, start));
  onSubmit('lookup-form', () => chat.lookUp());
  onSubmit('send-form', () => chat.send());
  onSubmit('backup-form', () => backUp(config, chat.me!, contacts));
  const toggle = $<HTMLButtonElement>('toggle-online');
  toggle.addEventListener('click', () => {
    toggle.disabled = true;
    (chat.online ? chat.goOffline() : chat.goOnline().then(() => say('Back online.')))
      .catch((error: unknown) => fail(explain(error)))
      .finally(() => {
        toggle.disabled = false;
      });
  });
  const push = $<HTMLButtonElement>('enable-push');
  push.hidden = !pushSupported();
  push.addEventListener('click', () => {
    chat.enablePush().then(
      (status) => say(`Notifications: ${status}.`),
      (error: unknown) => fail(explain(error)),
    );
  });
  $('forget').addEventListener(
    'click',
    () => void forget(chat, store, contacts).catch((error: unknown) => fail(explain(error))),
  );

  const stored = await store.peek();
  if (!stored) {
    show('setup');
    say('No identity on this device yet.');
  } else if (stored.encrypted) {
    $('unlock-id').textContent = stored.identity;
    show('unlock');
    $('unlock-passphrase').focus();
  } else {
    await start(await store.load());
  }
}

main().catch((error: unknown) => fail(explain(error)));
