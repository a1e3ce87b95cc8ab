/**
 * The Switchyard browser client: the page at `/`. It uses the same SDK as the CLI (client/): the
 * directory client to create and look up identities, a ChatSession + Messenger for end-to-end
 * encrypted texts with delivery state, the Safe SDK for Threema-compatible backups, and the
 * IndexedDB key store for the identity (its secret key sealed when a passphrase is given).
 *
 * Configuration comes from `config.json` next to the page (the local runner serves it; for static
 * hosting it holds the stack outputs). `?profile=NAME` keeps a separate identity, so two tabs of one
 * browser can be two people. Nothing here logs: identifiers are only shown to their owner.
 */
import { type DeliveryState, Messenger, type SentText } from '../client/chat/messenger.ts';
import { ChatError, ChatSession } from '../client/chat/session.ts';
import { DirectoryClient, DirectoryError } from '../client/directory/client.ts';
import { type IdentityKeys, KeyFileError } from '../client/identity-record.ts';
import { BrowserKeyStore } from '../client/keystore.ts';
import { backupToSafe, restoreFromSafe, SafeError } from '../client/safe/index.ts';
import { fromBase64, fromHex, toBase64, toHex } from '../protocol/bytes.ts';
import { fromB64 } from '../protocol/chat.ts';
import { generateKeyPair, keyPairFromSecret } from '../protocol/crypto.ts';
import { ensureIdentityId, type IdentityId } from '../protocol/identity.ts';

interface Config {
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly safeUrl: string;
  readonly serverPublicKey: Uint8Array;
}

const ID_PATTERN = /^[0-9A-Z]{8}$/;
const profile = /^[A-Za-z0-9-]{1,32}$/.exec(new URLSearchParams(location.search).get('profile') ?? '')?.[0];
const DB_NAME = profile ? `switchyard-${profile}` : 'switchyard';
const CONTACTS_KEY = `${DB_NAME}:contacts`;

const STATE_TEXT: Record<DeliveryState, string> = {
  sent: 'Sent',
  acked: 'Stored on server',
  delivered: 'Delivered',
};

const CHAT_TEXT: Record<string, string> = {
  unreachable: 'Could not reach the chat server.',
  server_key_mismatch:
    'The server could not prove the pinned server key: not the server this page was set up for.',
  login_failed: 'The server refused the login: the identity is revoked or the key does not match it.',
  unknown_recipient: 'That recipient is unknown, revoked or deleted. Nothing was sent.',
  mailbox_full: "The recipient's mailbox is full. Nothing was sent; try again later.",
  rate_limited: 'Too many messages: wait a minute and try again.',
  timeout: 'The chat server did not answer in time.',
  closed: 'You went offline before the server confirmed the message.',
};

const DIRECTORY_TEXT: Record<string, string> = {
  unreachable: 'Could not reach the directory.',
  invite_required: 'This server only registers identities with an invite.',
  rate_limited: 'Too many requests: wait a little and try again.',
  not_found: 'No active identity with that ID.',
};

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

function say(text: string): void {
  $('error').textContent = '';
  $('status').textContent = text;
}

function fail(text: string): void {
  $('status').textContent = '';
  $('error').textContent = text;
}

function explain(error: unknown): string {
  if (error instanceof SafeError || error instanceof KeyFileError) return error.message;
  if (error instanceof ChatError) return CHAT_TEXT[error.code] ?? `The chat server refused (${error.code}).`;
  if (error instanceof DirectoryError)
    return DIRECTORY_TEXT[error.code] ?? `The directory refused the request (${error.code}).`;
  return 'Something went wrong. Try again.';
}

/** Runs a form's action with its button disabled; errors become a message for the person. */
function onSubmit(formId: string, action: () => Promise<void>): void {
  const form = $<HTMLFormElement>(formId);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    $('error').textContent = '';
    const button = form.querySelector('button');
    if (button) button.disabled = true;
    action()
      .catch((error: unknown) => fail(explain(error)))
      .finally(() => {
        if (button) button.disabled = false;
      });
  });
}

function show(view: 'setup' | 'unlock' | 'app'): void {
  for (const id of ['setup', 'unlock', 'app']) $(id).hidden = id !== view;
}

function normaliseId(value: string): IdentityId {
  const id = value.trim().toUpperCase();
  if (!ID_PATTERN.test(id)) throw new KeyFileError('An ID is 8 characters: A–Z and 0–9.');
  return ensureIdentityId(id);
}

// ─── State ─────────────────────────────────────────────────────────────────────────────────────

let config: Config;
let store: BrowserKeyStore;
let directory: DirectoryClient;
let me: IdentityKeys | undefined;
let session: ChatSession | undefined;
let messenger: Messenger | undefined;
let online = false;
/** Public keys of people this identity wrote with (public data; kept for the next visit and the backup). */
const contacts = new Map<string, Uint8Array>();
/** The state label of each message this tab sent, by message id. */
const stateLabels = new Map<string, HTMLElement>();

async function loadConfig(): Promise<Config> {
  const response = await fetch('config.json', { cache: 'no-store' });
  const json = (await response.json()) as Record<string, unknown>;
  const serverPublicKey = fromHex(String(json.serverPublicKey ?? '').toLowerCase());
  if (!response.ok || serverPublicKey?.length !== 32 || typeof json.httpUrl !== 'string')
    throw new Error('config');
  const httpUrl = new URL(json.httpUrl, location.href).toString();
  return {
    httpUrl,
    wsUrl: String(json.wsUrl),
    safeUrl: typeof json.safeUrl === 'string' ? json.safeUrl : new URL('safe/', httpUrl).toString(),
    serverPublicKey,
  };
}

function loadContacts(): void {
  try {
    const saved = JSON.parse(localStorage.getItem(CONTACTS_KEY) ?? '{}') as Record<string, string>;
    for (const [id, key] of Object.entries(saved)) {
      const bytes = fromHex(key);
      if (ID_PATTERN.test(id) && bytes?.length === 32) contacts.set(id, bytes);
    }
  } catch {
    // A damaged list is rebuilt from the directory as people write.
  }
}

function rememberContact(id: string, publicKey: Uint8Array): void {
  contacts.set(id, publicKey);
  localStorage.setItem(
    CONTACTS_KEY,
    JSON.stringify(Object.fromEntries([...contacts].map(([peer, key]) => [peer, toHex(key)]))),
  );
}

/** A peer's public key: known contacts first (keys never change for an ID), else the directory. */
async function publicKeyOf(id: string): Promise<Uint8Array> {
  const known = contacts.get(id);
  if (known) return known;
  const entry = await directory.lookup(id);
  if (!entry?.publicKey) throw new ChatError('unknown_recipient');
  rememberContact(id, entry.publicKey);
  return entry.publicKey;
}

// ─── Connection ─────────────────────────────────────────────────────────────────────────────────

function setConnection(state: 'offline' | 'connecting' | 'online' | 'reconnecting'): void {
  const pill = $('connection');
  pill.dataset.state = state;
  pill.textContent = {
    offline: 'Offline',
    connecting: 'Connecting…',
    online: 'Online',
    reconnecting: 'Reconnecting…',
  }[state];
  online = state === 'online';
  $<HTMLButtonElement>('toggle-online').textContent = state === 'offline' ? 'Go online' : 'Go offline';
  $<HTMLButtonElement>('send-form').querySelector('button')!.disabled = state === 'offline';
}

async function goOnline(): Promise<void> {
  setConnection('connecting');
  try {
    await session!.connect();
    setConnection('online');
  } catch (error) {
    setConnection('offline');
    throw error;
  }
}

async function goOffline(): Promise<void> {
  messenger!.flushReceipts();
  await session!.close();
  setConnection('offline');
}

async function start(identity: IdentityKeys): Promise<void> {
  me = identity;
  $('my-id').textContent = identity.identity;
  $('who').hidden = false;
  show('app');
  session = new ChatSession({
    url: config.wsUrl,
    serverPublicKey: config.serverPublicKey,
    identity: identity.identity,
    keys: identity.keys,
    publicKeyOf,
  });
  session.onDisconnect = () => setConnection('reconnecting');
  session.onQueueEmpty = () => setConnection('online');
  messenger = new Messenger(session);
  messenger.onText = (message) => {
    addMessage({ mine: false, peer: message.sender, text: message.text, at: message.sentAt });
    const peer = $<HTMLInputElement>('peer');
    if (!peer.value) peer.value = message.sender;
  };
  messenger.onState = (_peer, id, state) => setState(id, state);
  messenger.onUnreadable = () => say('A message arrived in a format this page cannot read.');
  await goOnline();
  say('Connected. Messages waiting for you have been delivered.');
  $('peer').focus();
}

// ─── Messages ───────────────────────────────────────────────────────────────────────────────────

function addMessage(message: { mine: boolean; peer: string; text: string; at: number; id?: string }): void {
  const item = document.createElement('li');
  item.className = message.mine ? 'mine' : 'theirs';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.text;
  const meta = document.createElement('span');
  meta.className = 'meta';
  const time = new Date(message.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  meta.textContent = `${message.mine ? 'to' : 'from'} ${message.peer} · ${time}`;
  item.append(text, meta);
  if (message.id) {
    const state = document.createElement('span');
    state.className = 'state';
    meta.append(' · ', state);
    stateLabels.set(message.id, state);
    setState(message.id, 'sent');
  }
  $('messages').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function setState(id: string, state: DeliveryState): void {
  const label = stateLabels.get(id);
  if (!label) return;
  label.dataset.state = state;
  label.textContent = STATE_TEXT[state];
}

function definitions(listId: string, rows: ReadonlyArray<readonly [string, string]>): void {
  const list = $(listId);
  list.replaceChildren();
  for (const [term, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
}

/** The "what the server saw" panel for the last message this browser sent. */
function showVisibility(sent: SentText, text: string): void {
  $('seen-empty').hidden = true;
  $('seen').hidden = false;
  definitions('seen-server', [
    ['Recipient', sent.to],
    ['Sender', `${me!.identity} (from the login)`],
    ['Message id', `${toHex(fromB64(sent.id))} (8 random bytes)`],
    ['Flags', sent.flags === 0 ? '0 (none)' : `0x${sent.flags.toString(16)}`],
    ['Encrypted box', `${sent.boxBytes} bytes`],
    ['Nonce', '24 random bytes'],
    ['Also', 'the time, and your network address (as every server sees it)'],
  ]);
  definitions('seen-device', [
    ['Text', text],
    [
      'Text size',
      `${sent.textBytes} bytes (padded with ${sent.contentBytes - 1 - sent.textBytes} random bytes)`,
    ],
    ['Your secret key', 'never sent'],
    [`Key shared with ${sent.to}`, 'never sent: computed here from your secret key and their public key'],
    ['Session key', 'never sent: each side derives it for this connection only'],
  ]);
}

// ─── Actions ────────────────────────────────────────────────────────────────────────────────────

async function createIdentity(): Promise<void> {
  const passphrase = $<HTMLInputElement>('create-passphrase').value;
  say('Creating your identity…');
  const keys = generateKeyPair();
  const identity = await directory.createIdentity(keys);
  say(passphrase ? 'Locking the key with your passphrase…' : 'Saving the key on this device…');
  await store.save({ identity, keys }, { passphrase });
  $<HTMLInputElement>('create-passphrase').value = '';
  await start({ identity, keys });
}

async function unlock(): Promise<void> {
  say('Unlocking…');
  const field = $<HTMLInputElement>('unlock-passphrase');
  const identity = await store.load(field.value);
  field.value = '';
  await start(identity);
}

async function lookUp(): Promise<void> {
  const id = normaliseId($<HTMLInputElement>('peer').value);
  $<HTMLInputElement>('peer').value = id;
  const entry = await directory.lookup(id);
  if (!entry?.publicKey) {
    $('peer-info').textContent = `${id}: no active identity with this ID.`;
    return;
  }
  rememberContact(id, entry.publicKey);
  $('peer-info').textContent = `${id} is active. Key fingerprint ${toHex(entry.publicKey.subarray(0, 8))}…`;
}

async function send(): Promise<void> {
  if (!online) throw new ChatError('unreachable');
  const to = normaliseId($<HTMLInputElement>('peer').value);
  const field = $<HTMLInputElement>('message');
  const text = field.value;
  // The key is needed before anything is sent: an unknown ID fails here, and nothing goes out.
  await publicKeyOf(to);
  const sent = messenger!.sendText(to, text);
  field.value = '';
  addMessage({ mine: true, peer: to, text, at: Date.now(), id: sent.id });
  showVisibility(sent, text);
  // The form is free again at once; the ack (or a refusal) arrives later.
  sent.acked.catch((error: unknown) => {
    const label = stateLabels.get(sent.id);
    if (label) label.textContent = 'Not sent';
    fail(explain(error));
  });
}

async function backUp(): Promise<void> {
  const field = $<HTMLInputElement>('backup-password');
  const { bytes, config: safe } = await backupToSafe({
    server: config.safeUrl,
    identity: me!.identity,
    password: field.value,
    backup: {
      info: { version: 1, device: 'Switchyard web' },
      user: { privatekey: toBase64(me!.keys.secretKey), nickname: me!.identity },
      settings: {},
      contacts: [...contacts].map(([identity, key]) => ({
        identity,
        publickey: toBase64(key),
        verification: 0,
        hidden: false,
      })),
    },
    onProgress: (ms) => say(`Deriving the backup key… ${(ms / 1000).toFixed(1)} s`),
  });
  field.value = '';
  say(`Backup stored: ${bytes} encrypted bytes, kept ${safe.retentionDays} days after the last backup.`);
}

async function restore(): Promise<void> {
  const identity = normaliseId($<HTMLInputElement>('restore-id').value);
  const password = $<HTMLInputElement>('restore-password');
  const passphrase = $<HTMLInputElement>('restore-passphrase').value;
  const { backup } = await restoreFromSafe({
    server: config.safeUrl,
    identity,
    password: password.value,
    onProgress: (ms) => say(`Deriving the backup key… ${(ms / 1000).toFixed(1)} s`),
  });
  const secretKey = fromBase64(backup.user.privatekey);
  if (secretKey?.length !== 32) throw new KeyFileError('The backup holds no usable key.');
  const keys = keyPairFromSecret(secretKey);
  // The backup must hold the key the directory has for this ID, or the chat server would refuse it.
  const entry = await directory.lookup(identity);
  if (!entry?.publicKey) throw new KeyFileError('This ID is not active on this server.');
  if (toHex(entry.publicKey) !== toHex(keys.publicKey))
    throw new KeyFileError("The backup's key is not the key this ID is registered with.");
  for (const contact of backup.contacts ?? []) {
    const { identity: id, publickey } = (contact ?? {}) as Record<string, unknown>;
    const key = typeof publickey === 'string' ? fromBase64(publickey) : undefined;
    if (typeof id === 'string' && ID_PATTERN.test(id) && key?.length === 32) rememberContact(id, key);
  }
  await store.save({ identity, keys }, { passphrase });
  password.value = '';
  say('Restored from the backup.');
  await start({ identity, keys });
}

async function forget(): Promise<void> {
  if (!confirm('Forget this identity on this device? Without a Safe backup it cannot be restored.')) return;
  if (online) await goOffline();
  await store.forget();
  localStorage.removeItem(CONTACTS_KEY);
  location.reload();
}

// ─── Start ──────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  try {
    config = await loadConfig();
  } catch {
    fail('This page has no usable config.json (the server URLs and key); see the README.');
    return;
  }
  directory = new DirectoryClient({ server: config.httpUrl });
  store = await BrowserKeyStore.open(DB_NAME);
  loadContacts();

  onSubmit('create-form', createIdentity);
  onSubmit('unlock-form', unlock);
  onSubmit('restore-form', restore);
  onSubmit('lookup-form', lookUp);
  onSubmit('send-form', send);
  onSubmit('backup-form', backUp);
  const toggle = $<HTMLButtonElement>('toggle-online');
  toggle.addEventListener('click', () => {
    toggle.disabled = true;
    (online ? goOffline() : goOnline().then(() => say('Back online.')))
      .catch((error: unknown) => fail(explain(error)))
      .finally(() => {
        toggle.disabled = false;
      });
  });
  $('forget').addEventListener('click', () => void forget().catch((error: unknown) => fail(explain(error))));

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
