/**
 * The messenger once an identity is open: the connection (online, offline, reconnecting), the
 * conversations and contacts kept on this device (./store.ts), sending and receiving texts and
 * files with their delivery states, unread counts, the tab badge and notifications. A ChatSession
 * + Messenger from the SDK underneath; the media SDK for attachments.
 */
import { checkTextFits, type DeliveryState, Messenger } from '../client/chat/messenger.ts';
import { ChatError, ChatSession } from '../client/chat/session.ts';
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import { KeyFileError } from '../client/identity-record.ts';
import {
  type Attachment,
  BlobVerificationError,
  downloadBytes,
  finishDownload,
  uploadFile,
} from '../client/media/client.ts';
import { checkMediaType, MAX_NAME_BYTES } from '../client/media/descriptor.ts';
import type { BackupContact } from '../client/safe/identity.ts';
import { toHex } from '../protocol/bytes.ts';
import { constantTimeEqual, randomBytes } from '../protocol/crypto.ts';
import { Attention } from './attention.ts';
import type { Config } from './config.ts';
import { STORE_NAME } from './config.ts';
import { Contacts, fingerprint, LEVEL_TEXT, parseQrText, qrText } from './contacts.ts';
import { Conversations, fileRecord, type Message } from './conversations.ts';
import { $, explain, fail, normaliseId, say, show } from './page.ts';
import { disablePush, enablePush, type PushStatus, pushSubscribed } from './push.ts';
import { hasCamera, readQrFromImage, scanWithCamera, showQr } from './qr.ts';
import { showVisibility } from './seen.ts';
import { DeviceStore } from './store.ts';
import { drawContacts, drawList, drawProgress, drawThread, LEVEL_DOTS } from './thread.ts';
import { uploadFetch } from './upload.ts';

type Connection = 'offline' | 'connecting' | 'online' | 'reconnecting';

/** Files up to this size are kept on the device (sealed in the store); larger ones are shown once. */
export const KEEP_FILE_BYTES = 8 * 1024 * 1024;

/** How the page was opened: the identity, the passphrase that locks it (empty: none), and contacts
 * from a Safe backup just restored. */
export interface StartOptions {
  readonly identity: IdentityKeys;
  readonly passphrase: string;
  readonly restored?: readonly BackupContact[];
}

function cleanMediaType(type: string): string {
  try {
    return checkMediaType(type.split(';')[0]!.trim().toLowerCase());
  } catch {
    return 'application/octet-stream';
  }
}

function cleanName(name: string): string {
  let clean = name.replace(/[/\\\0]/g, '_');
  while (new TextEncoder().encode(clean).length > MAX_NAME_BYTES) clean = clean.slice(0, -1);
  return clean === '.' || clean === '..' ? '' : clean;
}

export class ChatView {
  /** The identity this page runs as, once started. */
  me: IdentityKeys | undefined;
  online = false;
  contacts!: Contacts;
  private store!: DeviceStore;
  private conversations!: Conversations;
  private attention!: Attention;
  private session: ChatSession | undefined;
  private messenger: Messenger | undefined;
  private openPeer: string | undefined;
  /** blob: URLs of files on screen, by file record. */
  private readonly urls = new Map<string, string>();
  private scanning: AbortController | undefined;
  /** Uploads and downloads of this page, by message id, for their progress bars. */
  private readonly transfers = new Map<string, { done: number; total: number }>();

  constructor(
    private readonly config: Config,
    private readonly directory: DirectoryClient,
  ) {}

  /** Opens this identity's device store, shows the messenger and goes online. */
  async start({ identity, passphrase, restored = [] }: StartOptions): Promise<void> {
    this.me = identity;
    this.store = await DeviceStore.open(STORE_NAME, identity.keys.secretKey, passphrase);
    const records = await this.store.all();
    this.contacts = new Contacts(this.store, this.directory);
    this.contacts.load(records);
    for (const contact of restored) {
      await this.contacts
        .remember(contact.identity, contact.publicKey, {
          ...(contact.name ? { name: contact.name } : {}),
          verification: contact.verification ?? 0,
        })
        .catch(() => undefined);
    }
    this.conversations = new Conversations(this.store);
    this.conversations.load(records);
    this.attention = new Attention(this.store);
    this.attention.load(records);
    this.contacts.onChange = () => this.refresh();

    $('my-id').textContent = identity.identity;
    $('who').hidden = false;
    $('my-fingerprint').textContent = fingerprint(identity.keys.publicKey);
    $('my-qr-text').textContent = qrText(identity.identity, identity.keys.publicKey);
    showQr($('my-qr'), qrText(identity.identity, identity.keys.publicKey), `QR code of ${identity.identity}`);
    $('scan-camera').hidden = !hasCamera();
    show('app');
    this.wire();

    const session = new ChatSession({
      url: this.config.wsUrl,
      serverPublicKey: this.config.serverPublicKey,
      identity: identity.identity,
      keys: identity.keys,
      publicKeyOf: (id) => this.contacts.publicKeyOf(id),
    });
    this.session = session;
    session.onDisconnect = () => this.setConnection('reconnecting');
    session.onQueueEmpty = () => this.setConnection('online');
    const messenger = new Messenger(session);
    this.messenger = messenger;
    messenger.onText = (message) => {
      this.received({
        id: message.id,
        peer: message.sender,
        mine: false,
        at: message.sentAt,
        text: message.text,
      });
    };
    messenger.onFile = (file) => this.receiveFile(file.sender, file.id, file.sentAt, file.attachment);
    messenger.onState = (_peer, id, state) => void this.setState(id, state);
    messenger.onUnreadable = () => say('A message arrived in a format this page cannot read.');
    // Receipts for messages sent before a reload still move them to "Delivered".
    for (const message of this.conversations.awaitingReceipt())
      messenger.expect(message.peer, message.wire!, 'acked');
    this.refresh();
    await this.goOnline();
    // Settings → Notifications shows whether this browser is subscribed to wake-ups (web/push.ts).
    void pushSubscribed().then((subscribed) => {
      $<HTMLInputElement>('push').checked = subscribed;
    });
    say('Connected. Messages waiting for you have been delivered.');
  }

  private wire(): void {
    $('back').addEventListener('click', () => this.close());
    $('contact-toggle').addEventListener('click', () => {
      const details = $('contact-details');
      details.hidden = !details.hidden;
      $('contact-toggle').setAttribute('aria-expanded', String(!details.hidden));
    });
    const guard = (action: () => Promise<void>) => () =>
      void action().catch((error: unknown) => fail(explain(error)));
    $('verify-contact').addEventListener(
      'click',
      guard(async () => {
        if (!this.openPeer) return;
        await this.contacts.verify(this.openPeer);
        say(`${this.contacts.label(this.openPeer)} is verified: ${LEVEL_TEXT[2].toLowerCase()}.`);
      }),
    );
    $('delete-conversation').addEventListener(
      'click',
      guard(() => this.deleteConversation()),
    );
    /** A file picked in `inputId` goes to `action`; the field is emptied for the next pick. */
    const onPick = (inputId: string, action: (file: File) => Promise<void>) => {
      const input = $<HTMLInputElement>(inputId);
      input.addEventListener(
        'change',
        guard(async () => {
          const file = input.files?.[0];
          input.value = '';
          if (file) await action(file);
        }),
      );
    };
    onPick('attach', (file) => this.sendFile(file));
    onPick('scan-picture', async (file) => {
      const text = await readQrFromImage(file);
      if (!text) throw new KeyFileError('No QR code found in that picture.');
      await this.verifyCode(text);
    });
    $('scan-camera').addEventListener(
      'click',
      guard(async () => {
        if (this.scanning) {
          this.scanning.abort();
          return;
        }
        const video = $<HTMLVideoElement>('scan-video');
        this.scanning = new AbortController();
        video.hidden = false;
        $('scan-camera').textContent = 'Stop the camera';
        try {
          const text = await scanWithCamera(video, this.scanning.signal);
          if (text) await this.verifyCode(text);
        } catch (error) {
          if (error instanceof DOMException)
            throw new KeyFileError('The camera could not be opened: paste the code text instead.');
          throw error;
        } finally {
          this.scanning = undefined;
          video.hidden = true;
          $('scan-camera').textContent = 'Scan with the camera';
        }
      }),
    );
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.openPeer) void this.markRead(this.openPeer);
    });
  }

  async goOnline(): Promise<void> {
    this.setConnection('connecting');
    try {
      await this.session!.connect();
      this.setConnection('online');
    } catch (error) {
      this.setConnection('offline');
      throw error;
    }
  }

  /** Turns push wake-ups for this browser (web/push.ts) on or off over the current session. */
  setPush(on: boolean): Promise<PushStatus> {
    if (!this.session) return Promise.reject(new Error('Not signed in yet.'));
    return on ? enablePush(this.session) : disablePush(this.session);
  }

  async goOffline(): Promise<void> {
    this.messenger!.flushReceipts();
    await this.session!.close();
    this.setConnection('offline');
  }

  /** The "write to ID" form: looks the ID up (or takes the known contact) and opens its thread. */
  async startConversation(): Promise<void> {
    const field = $<HTMLInputElement>('peer');
    const id = normaliseId(field.value);
    if (id === this.me!.identity) throw new KeyFileError('That is your own ID.');
    try {
      await this.contacts.resolve(id);
    } catch (error) {
      if (error instanceof ChatError && error.code === 'unknown_recipient')
        throw new KeyFileError(`${id}: no active identity with this ID.`);
      throw error;
    }
    field.value = '';
    await this.open(id);
  }

  /** Opens the thread with `peer`, marking its messages read. */
  async open(peer: string): Promise<void> {
    this.openPeer = peer;
    $('app').dataset.view = 'thread';
    $('contact-details').hidden = true;
    $('contact-toggle').setAttribute('aria-expanded', 'false');
    await this.markRead(peer);
    this.refresh();
    $('message').focus();
  }

  private close(): void {
    this.openPeer = undefined;
    $('app').dataset.view = 'list';
    this.refresh();
    $('peer').focus();
  }

  private async markRead(peer: string): Promise<void> {
    if (document.hidden) return;
    if ((await this.conversations.markRead(peer)) > 0) this.refresh();
  }

  /** Is `peer`'s thread in front of the person right now? */
  private reading(peer: string): boolean {
    return this.openPeer === peer && !document.hidden;
  }

  /** Redraws the list, the contacts, the open thread and the badge. */
  private refresh(): void {
    const label = (peer: string) => this.contacts.label(peer);
    drawList(this.conversations.summaries(), label, this.openPeer, (peer) => void this.open(peer));
    drawContacts(this.contacts.list(), (id) => void this.open(id));
    this.attention.badge(this.conversations.totalUnread());
    const peer = this.openPeer;
    for (const id of ['messages', 'send-form', 'contact-toggle']) $(id).hidden = !peer;
    $('thread-empty').hidden = Boolean(peer);
    if (!peer) {
      $('thread-title').textContent = 'No conversation open';
      $('thread-level').textContent = '';
      return;
    }
    const contact = this.contacts.get(peer);
    $('thread-title').textContent = label(peer);
    const level = contact?.verification ?? 0;
    $('thread-level').textContent = `${LEVEL_DOTS[level]} ${LEVEL_TEXT[level]}`;
    $('contact-id').textContent = peer;
    $('contact-fingerprint').textContent = contact ? fingerprint(contact.publicKey) : '';
    $('contact-level').textContent = `${level + 1} of 3: ${LEVEL_TEXT[level]}`;
    $('verify-contact').hidden = level === 2;
    const nameField = $<HTMLInputElement>('contact-name');
    if (document.activeElement !== nameField) nameField.value = contact?.name ?? '';
    drawThread(
      this.conversations.thread(peer),
      label(peer),
      (message) => this.fileUrl(message),
      this.transfers,
    );
  }

  /** A blob: URL for a message's file, loading it from the store when it is kept there. */
  private fileUrl(message: Message): string | undefined {
    const name = fileRecord(message.peer, message.id);
    const known = this.urls.get(name);
    if (known || !message.file?.kept) return known;
    void this.store.file(name).then((bytes) => {
      if (!bytes || this.urls.has(name)) return;
      this.urls.set(
        name,
        URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: message.file!.mediaType })),
      );
      if (this.openPeer === message.peer) this.refresh();
    });
    return undefined;
  }

  /** Renames the open conversation's contact. */
  async rename(): Promise<void> {
    if (!this.openPeer) return;
    await this.contacts.rename(this.openPeer, $<HTMLInputElement>('contact-name').value);
    say('Name saved on this device.');
  }

  /** A scanned or pasted contact code: the directory must hold the same key; then verified in person. */
  async verifyCode(text?: string): Promise<void> {
    const field = $<HTMLInputElement>('scan-text');
    const { id, publicKey } = parseQrText(text ?? field.value);
    if (id === this.me!.identity) throw new KeyFileError('That is your own code.');
    const entry = await this.directory.lookup(id);
    if (!entry?.publicKey) throw new KeyFileError(`${id}: no active identity with this ID.`);
    if (!constantTimeEqual(entry.publicKey, publicKey))
      throw new KeyFileError(`The code's key is not the key the directory has for ${id}. Not verified.`);
    await this.contacts.remember(id, publicKey, { verification: 2 });
    field.value = '';
    say(`${this.contacts.label(id)} is verified in person.`);
    await this.open(id);
  }

  async send(): Promise<void> {
    if (!this.online) throw new ChatError('unreachable');
    const to = this.openPeer;
    if (!to) return;
    const field = $<HTMLInputElement>('message');
    const text = field.value;
    // Too long for one frame: refused here, before anything goes out (the text stays in the field).
    checkTextFits(text);
    // The key is needed before anything is sent: an unknown ID fails here, and nothing goes out.
    await this.contacts.publicKeyOf(to);
    const sent = this.messenger!.sendText(to, text);
    field.value = '';
    const saved = this.conversations.put({
      id: sent.id,
      wire: sent.id,
      peer: to,
      mine: true,
      at: Date.now(),
      text,
      state: 'sent',
    });
    this.refresh();
    showVisibility(this.me!.identity, sent, text);
    this.watch(to, sent.id, sent.acked);
    await saved;
  }

  private watch(peer: string, id: string, acked: Promise<unknown>): void {
    // The form is free again at once; the ack (or a refusal) arrives later.
    acked.catch((error: unknown) => {
      void this.conversations.update(peer, id, { state: 'failed' }).then(() => this.refresh());
      fail(explain(error));
    });
  }

  /** Encrypts, uploads (with progress) and sends a file to the open conversation. */
  async sendFile(file: File): Promise<void> {
    if (!this.online) throw new ChatError('unreachable');
    const to = this.openPeer;
    if (!to) return;
    await this.contacts.publicKeyOf(to);
    const id = `local-${toHex(randomBytes(8))}`;
    const info = { name: cleanName(file.name), mediaType: cleanMediaType(file.type), size: file.size };
    // In memory: kept on the device and shown at once (files are limited to tens of MiB by the server).
    const bytes = new Uint8Array(await file.arrayBuffer());
    const kept = bytes.length <= KEEP_FILE_BYTES;
    const record = fileRecord(to, id);
    if (kept) await this.store.putFile(record, bytes);
    this.urls.set(record, URL.createObjectURL(new Blob([bytes], { type: info.mediaType })));
    await this.conversations.put({
      id,
      peer: to,
      mine: true,
      at: Date.now(),
      file: { ...info, kept },
      state: 'sent',
    });
    this.refresh();
    this.progress(id, 0, 1);
    let attachment: Attachment;
    try {
      attachment = await uploadFile(this.session!, {
        to,
        source: bytes,
        ...info,
        size: bytes.length,
        fetch: uploadFetch((done, total) => this.progress(id, done, total)),
      });
    } catch (error) {
      await this.conversations.update(to, id, { state: 'failed' });
      this.refresh();
      throw error;
    }
    const sent = this.messenger!.sendAttachment(to, attachment);
    await this.conversations.update(to, id, { wire: sent.id });
    this.refresh();
    showVisibility(
      this.me!.identity,
      sent,
      `${info.name || 'a file'}: ${info.size} bytes, encrypted and uploaded to the storage`,
    );
    this.watch(to, id, sent.acked);
  }

  private progress(id: string, done: number, total: number): void {
    this.transfers.set(id, { done, total });
    drawProgress(id, done, total);
  }

  private async setState(wire: string, state: DeliveryState): Promise<void> {
    const message = this.conversations.byWireId(wire);
    if (!message) return;
    await this.conversations.update(message.peer, message.id, { state });
    if (this.openPeer === message.peer) this.refresh();
  }

  /** A new message from someone: kept, shown, counted, announced. */
  private received(message: Message): void {
    const reading = this.reading(message.peer);
    void this.conversations.put({ ...message, read: reading });
    this.refresh();
    if (!reading)
      this.attention.notify(
        this.contacts.label(message.peer),
        message.text ?? `sent ${message.file?.name || 'a file'}`,
        () => void this.open(message.peer),
      );
  }

  /** A file message: downloaded and verified before it is shown; kept when not too large. */
  private async receiveFile(peer: string, id: string, at: number, attachment: Attachment): Promise<boolean> {
    const existing = this.conversations.thread(peer).find((message) => message.id === id);
    if (existing?.file && !existing.file.problem) return true;
    const info = {
      name: attachment.name,
      mediaType: attachment.mediaType,
      size: attachment.size,
      kept: false,
    };
    const base: Message = { id, peer, mine: false, at, file: info, read: this.reading(peer) };
    await this.conversations.put(base);
    this.refresh();
    let bytes: Uint8Array;
    try {
      bytes = await downloadBytes(this.session!, attachment, {
        onProgress: (done, total) => this.progress(id, done, total),
      });
    } catch (error) {
      let problem: string;
      if (error instanceof BlobVerificationError) {
        problem = 'The file failed its integrity check and was not shown.';
        await finishDownload(this.session!, attachment.blob).catch(() => undefined);
      } else if (error instanceof ChatError && error.code === 'not_found') {
        problem = 'The file is no longer on the server.';
      } else {
        // Unreachable storage: not acked, so the message comes again on the next login.
        throw error;
      }
      this.received({ ...base, file: { ...info, problem } });
      return true;
    }
    const record = fileRecord(peer, id);
    const kept = bytes.length <= KEEP_FILE_BYTES;
    if (kept) await this.store.putFile(record, bytes);
    this.urls.set(
      record,
      URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: info.mediaType })),
    );
    await finishDownload(this.session!, attachment.blob).catch(() => undefined);
    this.received({ ...base, file: { ...info, kept } });
    return true;
  }

  private async deleteConversation(): Promise<void> {
    const peer = this.openPeer;
    if (!peer) return;
    if (
      !confirm(
        `Delete the conversation with ${this.contacts.label(peer)} from this device? This cannot be undone.`,
      )
    )
      return;
    for (const message of this.conversations.thread(peer)) {
      const name = fileRecord(peer, message.id);
      const url = this.urls.get(name);
      if (url) URL.revokeObjectURL(url);
      this.urls.delete(name);
    }
    await this.conversations.remove(peer);
    say('Conversation deleted from this device.');
    this.close();
  }

  private setConnection(state: Connection): void {
    const pill = $('connection');
    pill.dataset.state = state;
    pill.textContent = {
      offline: 'Offline',
      connecting: 'Connecting…',
      online: 'Online',
      reconnecting: 'Reconnecting…',
    }[state];
    this.online = state === 'online';
    $<HTMLButtonElement>('toggle-online').textContent = state === 'offline' ? 'Go online' : 'Go offline';
    $<HTMLButtonElement>('send-form').querySelector<HTMLButtonElement>('button[type="submit"]')!.disabled =
      state === 'offline';
  }

  /** Closes the session and the store (the identity is being forgotten). */
  async stop(): Promise<void> {
    if (this.online) await this.goOffline();
    this.store?.close();
  }
}
