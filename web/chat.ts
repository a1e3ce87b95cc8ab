/**
 * The chat view: the connection (online, offline, reconnecting), looking up a peer, sending, and
 * the message list with each sent message's delivery state. A ChatSession + Messenger underneath.
 */
import { checkTextFits, type DeliveryState, Messenger } from '../client/chat/messenger.ts';
import { ChatError, ChatSession } from '../client/chat/session.ts';
import type { DirectoryClient } from '../client/directory/client.ts';
import type { IdentityKeys } from '../client/identity-record.ts';
import { toHex } from '../protocol/bytes.ts';
import type { Config } from './config.ts';
import type { Contacts } from './contacts.ts';
import { $, explain, fail, normaliseId, say, show } from './page.ts';
import { enablePush, type PushStatus } from './push.ts';
import { showVisibility } from './seen.ts';

const STATE_TEXT: Record<DeliveryState, string> = {
  sent: 'Sent',
  acked: 'Stored on server',
  delivered: 'Delivered',
};

type Connection = 'offline' | 'connecting' | 'online' | 'reconnecting';

export class ChatView {
  /** The identity this page runs as, once started. */
  me: IdentityKeys | undefined;
  online = false;
  private session: ChatSession | undefined;
  private messenger: Messenger | undefined;
  /** The state label of each message this tab sent, by message id. */
  private readonly stateLabels = new Map<string, HTMLElement>();

  constructor(
    private readonly config: Config,
    private readonly directory: DirectoryClient,
    private readonly contacts: Contacts,
  ) {}

  /** Shows the chat as `identity` and goes online. */
  async start(identity: IdentityKeys): Promise<void> {
    this.me = identity;
    $('my-id').textContent = identity.identity;
    $('who').hidden = false;
    show('app');
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
      this.addMessage({ mine: false, peer: message.sender, text: message.text, at: message.sentAt });
      const peer = $<HTMLInputElement>('peer');
      if (!peer.value) peer.value = message.sender;
    };
    messenger.onState = (_peer, id, state) => this.setState(id, state);
    messenger.onUnreadable = () => say('A message arrived in a format this page cannot read.');
    await this.goOnline();
    say('Connected. Messages waiting for you have been delivered.');
    $('peer').focus();
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

  /** Push wake-ups for this browser (web/push.ts) over the current session. */
  enablePush(): Promise<PushStatus> {
    return enablePush(this.session!);
  }

  async goOffline(): Promise<void> {
    this.messenger!.flushReceipts();
    await this.session!.close();
    this.setConnection('offline');
  }

  async lookUp(): Promise<void> {
    const id = normaliseId($<HTMLInputElement>('peer').value);
    $<HTMLInputElement>('peer').value = id;
    const entry = await this.directory.lookup(id);
    if (!entry?.publicKey) {
      $('peer-info').textContent = `${id}: no active identity with this ID.`;
      return;
    }
    this.contacts.remember(id, entry.publicKey);
    $('peer-info').textContent = `${id} is active. Key fingerprint ${toHex(entry.publicKey.subarray(0, 8))}…`;
  }

  async send(): Promise<void> {
    if (!this.online) throw new ChatError('unreachable');
    const to = normaliseId($<HTMLInputElement>('peer').value);
    const field = $<HTMLInputElement>('message');
    const text = field.value;
    // Too long for one frame: refused here, before anything goes out (the text stays in the field).
    checkTextFits(text);
    // The key is needed before anything is sent: an unknown ID fails here, and nothing goes out.
    await this.contacts.publicKeyOf(to);
    const sent = this.messenger!.sendText(to, text);
    field.value = '';
    this.addMessage({ mine: true, peer: to, text, at: Date.now(), id: sent.id });
    showVisibility(this.me!.identity, sent, text);
    // The form is free again at once; the ack (or a refusal) arrives later.
    sent.acked.catch((error: unknown) => {
      const label = this.stateLabels.get(sent.id);
      if (label) label.textContent = 'Not sent';
      fail(explain(error));
    });
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
    $<HTMLButtonElement>('send-form').querySelector('button')!.disabled = state === 'offline';
  }

  private addMessage(message: { mine: boolean; peer: string; text: string; at: number; id?: string }): void {
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
      this.stateLabels.set(message.id, state);
      this.setState(message.id, 'sent');
    }
    $('messages').append(item);
    item.scrollIntoView({ block: 'nearest' });
  }

  private setState(id: string, state: DeliveryState): void {
    const label = this.stateLabels.get(id);
    if (!label) return;
    label.dataset.state = state;
    label.textContent = STATE_TEXT[state];
  }
}
