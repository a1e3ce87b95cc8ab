/**
 * Drawing conversations: the list (last message, time, unread count) and one open thread (days,
 * times, delivery states, pictures inline, files to save, transfer progress). Pure DOM from the
 * model in ./conversations.ts; what happens on a click is the caller's.
 */
import type { Contact } from './contacts.ts';
import type { Message, MessageState, Summary } from './conversations.ts';
import { dayLabel, element, shortTime } from './page.ts';

export const STATE_TEXT: Record<MessageState, string> = {
  sent: 'Sent',
  acked: 'Stored on server',
  delivered: 'Delivered',
  failed: 'Not sent',
};

/** Media types shown inline as pictures (SVG is not: it can carry scripts and links). */
const PICTURES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

export const LEVEL_DOTS = ['●○○', '●●○', '●●●'] as const;

function preview(message: Message): string {
  if (message.file) return `${message.mine ? 'You sent' : 'Sent'} ${message.file.name || 'a file'}`;
  return `${message.mine ? 'You: ' : ''}${message.text ?? ''}`;
}

/** The conversation list; `onOpen(peer)` when one is picked. */
export function drawList(
  summaries: readonly Summary[],
  label: (peer: string) => string,
  openPeer: string | undefined,
  onOpen: (peer: string) => void,
): void {
  const list = document.getElementById('conversations')!;
  list.replaceChildren(
    ...summaries.map(({ peer, last, unread }) => {
      const item = element('li');
      const button = element('button', 'conversation');
      button.type = 'button';
      button.dataset.peer = peer;
      if (peer === openPeer) button.setAttribute('aria-current', 'true');
      const name = element('span', 'name', label(peer));
      const time = element('time', 'time', shortTime(last.at));
      time.dateTime = new Date(last.at).toISOString();
      const text = element('span', 'preview', preview(last));
      button.append(name, time, text);
      if (unread > 0) {
        const badge = element('span', 'unread', String(unread));
        badge.setAttribute('aria-label', `${unread} unread`);
        button.append(badge);
      }
      button.addEventListener('click', () => onOpen(peer));
      item.append(button);
      return item;
    }),
  );
  document.getElementById('no-conversations')!.hidden = summaries.length > 0;
}

/** The contact list; `onOpen(id)` to write to one. */
export function drawContacts(contacts: readonly Contact[], onOpen: (id: string) => void): void {
  document.getElementById('contact-count')!.textContent = `(${contacts.length})`;
  document.getElementById('contacts')!.replaceChildren(
    ...contacts.map((contact) => {
      const item = element('li');
      const button = element('button', 'link', contact.name ? `${contact.name} (${contact.id})` : contact.id);
      button.type = 'button';
      button.addEventListener('click', () => onOpen(contact.id));
      const level = element('span', `level level-${contact.verification}`, LEVEL_DOTS[contact.verification]);
      level.setAttribute('role', 'img');
      level.setAttribute('aria-label', `verification level ${contact.verification + 1} of 3`);
      item.append(button, ' ', level);
      return item;
    }),
  );
}

/** Where a file's bytes can be had for display (a blob: URL), or undefined when not (yet) known. */
export type FileUrl = (message: Message) => string | undefined;

function fileBody(message: Message, url: string | undefined): HTMLElement {
  const file = message.file!;
  const box = element('span', 'file');
  if (url && PICTURES.has(file.mediaType)) {
    const image = element('img');
    image.src = url;
    image.alt = file.name ? `Picture: ${file.name}` : 'Picture';
    box.append(image);
  }
  const size =
    file.size < 1024 * 1024 ? `${Math.ceil(file.size / 1024)} KB` : `${(file.size / 1048576).toFixed(1)} MB`;
  if (url) {
    const link = element('a', 'save', `${file.name || 'file'} · ${size}`);
    link.href = url;
    link.download = file.name || 'file';
    box.append(link);
  } else {
    box.append(element('span', 'file-name', `${file.name || 'file'} · ${size}`));
    if (file.problem) box.append(element('span', 'problem', file.problem));
    else if (!file.kept && (message.mine ? message.state !== 'sent' : true))
      box.append(element('span', 'hint', 'Not kept on this device (too large).'));
  }
  const progress = element('progress', 'transfer');
  progress.hidden = true;
  progress.setAttribute('aria-label', message.mine ? 'Upload progress' : 'Download progress');
  box.append(progress);
  return box;
}

/** Transfers by message id: encrypted bytes done and in all. */
export type Transfers = ReadonlyMap<string, { readonly done: number; readonly total: number }>;

/** Draws one thread; `fileUrl` says where a file's bytes are, `transfers` how far each got. */
export function drawThread(
  messages: readonly Message[],
  peerLabel: string,
  fileUrl: FileUrl,
  transfers: Transfers,
): void {
  const list = document.getElementById('messages')!;
  list.setAttribute('aria-label', `Messages with ${peerLabel}`);
  const items: HTMLElement[] = [];
  let day = '';
  for (const message of messages) {
    const label = dayLabel(message.at);
    if (label !== day) {
      day = label;
      items.push(element('li', 'day', label));
    }
    const item = element('li', message.mine ? 'mine' : 'theirs');
    item.dataset.id = message.id;
    if (message.file) item.append(fileBody(message, fileUrl(message)));
    else item.append(element('span', 'text', message.text ?? ''));
    const meta = element('span', 'meta');
    const time = element(
      'time',
      '',
      new Date(message.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    );
    time.dateTime = new Date(message.at).toISOString();
    meta.append(message.mine ? 'You · ' : `${peerLabel} · `, time);
    if (message.mine && message.state) {
      const state = element('span', 'state', STATE_TEXT[message.state]);
      state.dataset.state = message.state;
      meta.append(' · ', state);
    }
    item.append(meta);
    items.push(item);
  }
  list.replaceChildren(...items);
  for (const [id, { done, total }] of transfers) drawProgress(id, done, total);
  list.scrollTop = list.scrollHeight;
}

/** Shows a transfer's progress on its message (when that thread is on screen). */
export function drawProgress(id: string, done: number, total: number): void {
  const progress = document.querySelector<HTMLProgressElement>(
    `#messages li[data-id="${CSS.escape(id)}"] progress`,
  );
  if (!progress) return;
  progress.hidden = done >= total;
  progress.max = total;
  progress.value = done;
  progress.textContent = `${Math.floor((100 * done) / Math.max(total, 1))} %`;
}
