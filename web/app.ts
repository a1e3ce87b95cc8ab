/**
 * The Switchyard browser client: the page at `/`. It uses the same SDK as the CLI (client/): the
 * directory client to create and look up identities, a ChatSession + Messenger for end-to-end
 * encrypted texts and files with delivery state, the Safe SDK for Threema-compatible backups, and
 * the IndexedDB key store for the identity (its secret key sealed when a passphrase is given).
 *
 * This file starts the page and wires its forms; the parts live next to it: config.ts (config.json
 * and the profile), page.ts (shared DOM helpers and error texts), identity.ts (create, unlock,
 * forget), chat.ts (the messenger: connection, conversations, sending, receiving), thread.ts
 * (drawing them), conversations.ts and contacts.ts (the model), store.ts (the encrypted device
 * store), attention.ts (badge, notifications), qr.ts, seen.ts ("what the server saw"), backup.ts
 * (the Safe backup panel) and protect.ts (its option of a short password kept in the vault, whose
 * client, vault.ts, is built as vault.js and loaded only when that option is used). Nothing here
 * logs: identifiers are only shown to their owner.
 */
import { DirectoryClient } from '../client/directory/client.ts';
import { BrowserKeyStore } from '../client/keystore.ts';
import { backUp, restore } from './backup.ts';
import { ChatView } from './chat.ts';
import { type Config, DB_NAME, loadConfig } from './config.ts';
import { createIdentity, forget, unlock } from './identity.ts';
import { $, explain, fail, onSubmit, say, show } from './page.ts';
import { wireProtection } from './protect.ts';
import { type PushStatus, pushSupported } from './push.ts';

const PUSH_WORDS: Readonly<Record<PushStatus, string>> = {
  enabled: 'On: the server wakes this browser while messages wait for you.',
  disabled: 'Off: nothing wakes this browser while the page is closed.',
  unsupported: 'This browser offers no Web Push to this page.',
  denied: 'The browser does not allow notifications for this page.',
};

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
  const chat = new ChatView(config, directory);
  const start = chat.start.bind(chat);

  onSubmit('create-form', () => createIdentity(directory, store, start));
  onSubmit('unlock-form', () => unlock(store, start));
  onSubmit('restore-form', () => restore({ config, directory, store }, start));
  onSubmit('new-form', () => chat.startConversation());
  onSubmit('send-form', () => chat.send());
  onSubmit('rename-form', () => chat.rename());
  onSubmit('scan-form', () => chat.verifyCode());
  onSubmit('backup-form', () => backUp(config, chat.me!, chat.contacts));
  wireProtection(config, directory, () => chat.me);
  const toggle = $<HTMLButtonElement>('toggle-online');
  toggle.addEventListener('click', () => {
    toggle.disabled = true;
    (chat.online ? chat.goOffline() : chat.goOnline().then(() => say('Back online.')))
      .catch((error: unknown) => fail(explain(error)))
      .finally(() => {
        toggle.disabled = false;
      });
  });
  const push = $<HTMLInputElement>('push');
  push.disabled = !pushSupported();
  if (!pushSupported()) $('push-help').textContent = PUSH_WORDS.unsupported;
  push.addEventListener('change', () => {
    const wanted = push.checked;
    push.disabled = true;
    chat
      .setPush(wanted)
      .then(
        (status) => {
          push.checked = status === 'enabled';
          $('push-help').textContent = PUSH_WORDS[status];
        },
        (error: unknown) => {
          push.checked = !wanted;
          $('push-help').textContent = `Not changed: ${explain(error)}`;
        },
      )
      .finally(() => {
        push.disabled = false;
      });
  });
  $('forget').addEventListener(
    'click',
    () => void forget(chat, store).catch((error: unknown) => fail(explain(error))),
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
    await start({ identity: await store.load(), passphrase: '' });
  }
  // For the page-weight benchmark (bench/web.ts) and tests: the page answers input from here on.
  document.documentElement.dataset.ready = 'true';
  performance.mark('switchyard:interactive');
}

main().catch((error: unknown) => fail(explain(error)));
