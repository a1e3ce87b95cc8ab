/**
 * The conversations on this device: one thread per contact, each message with its time, its
 * delivery state (mine) or whether it was read (theirs), kept in the device store (./store.ts) so
 * the history survives a reload; the server forgot each message once it was delivered.
 *
 * Records: `m:<peer>:<id>` per message; `f:<peer>:<id>` the bytes of a file kept with it.
 */
import type { DeliveryState } from '../client/chat/messenger.ts';
import type { DeviceStore } from './store.ts';

/** A message's delivery state: the SDK's three, or refused by the server. */
export type MessageState = DeliveryState | 'failed';

/** A file sent or received in a message. */
export interface FileInfo {
  readonly name: string;
  readonly mediaType: string;
  readonly size: number;
  /** Whether its bytes are kept on this device (record `f:…`); big files are shown once only. */
  readonly kept: boolean;
  /** Why it could not be shown (download refused, gone, failed its check). */
  readonly problem?: string;
}

export interface Message {
  /** Stable on this device: the record's name. For texts, the message id (base64). */
  readonly id: string;
  readonly peer: string;
  readonly mine: boolean;
  /** ms since the epoch: when sent (mine) or when the server stored it (theirs). */
  readonly at: number;
  readonly text?: string;
  readonly file?: FileInfo;
  /** Mine: the id on the wire (base64), once handed to the session. */
  readonly wire?: string;
  /** Mine: how far it got. */
  readonly state?: MessageState;
  /** Theirs: whether it was seen in an open conversation. */
  readonly read?: boolean;
}

export interface Summary {
  readonly peer: string;
  readonly last: Message;
  readonly unread: number;
}

const messageRecord = (peer: string, id: string) => `m:${peer}:${id}`;
export const fileRecord = (peer: string, id: string) => `f:${peer}:${id}`;

export class Conversations {
  private readonly threads = new Map<string, Message[]>();
  /** Mine by wire id, so a state change finds its message. */
  private readonly byWire = new Map<string, Message>();

  constructor(private readonly store: DeviceStore) {}

  /** Takes the messages among the store's records (DeviceStore.all). */
  load(records: ReadonlyArray<{ name: string; value: unknown }>): void {
    for (const { name, value } of records) {
      if (!name.startsWith('m:')) continue;
      const message = value as Message;
      if (
        typeof message?.peer !== 'string' ||
        typeof message.id !== 'string' ||
        typeof message.at !== 'number'
      )
        continue;
      this.insert(message);
    }
  }

  private insert(message: Message): void {
    const thread = this.threads.get(message.peer) ?? [];
    const at = thread.findIndex((other) => other.id === message.id);
    if (at >= 0) thread[at] = message;
    else {
      thread.push(message);
      thread.sort((a, b) => a.at - b.at);
    }
    this.threads.set(message.peer, thread);
    if (message.wire) this.byWire.set(message.wire, message);
  }

  /** Adds or replaces a message and saves it. */
  async put(message: Message): Promise<void> {
    this.insert(message);
    await this.store.put(messageRecord(message.peer, message.id), message);
  }

  /** Changes a message (found by peer and id) and saves it; undefined when there is none. */
  async update(peer: string, id: string, change: Partial<Message>): Promise<Message | undefined> {
    const known = this.threads.get(peer)?.find((message) => message.id === id);
    if (!known) return undefined;
    const next = { ...known, ...change };
    await this.put(next);
    return next;
  }

  /** My message with this wire id. */
  byWireId(wire: string): Message | undefined {
    return this.byWire.get(wire);
  }

  /** Mine that the server stored but no receipt confirmed yet (to watch for receipts again). */
  awaitingReceipt(): Message[] {
    return [...this.byWire.values()].filter((message) => message.state === 'acked');
  }

  thread(peer: string): readonly Message[] {
    return this.threads.get(peer) ?? [];
  }

  unread(peer: string): number {
    return this.thread(peer).filter((message) => !message.mine && !message.read).length;
  }

  totalUnread(): number {
    let total = 0;
    for (const peer of this.threads.keys()) total += this.unread(peer);
    return total;
  }

  /** Marks every message of `peer` read; resolves with how many changed. */
  async markRead(peer: string): Promise<number> {
    const unread = this.thread(peer).filter((message) => !message.mine && !message.read);
    for (const message of unread) await this.put({ ...message, read: true });
    return unread.length;
  }

  /** Every conversation, the latest first. */
  summaries(): Summary[] {
    return [...this.threads.entries()]
      .filter(([, thread]) => thread.length > 0)
      .map(([peer, thread]) => ({ peer, last: thread.at(-1)!, unread: this.unread(peer) }))
      .sort((a, b) => b.last.at - a.last.at);
  }

  /** Deletes a conversation and its files from this device. */
  async remove(peer: string): Promise<void> {
    const thread = this.thread(peer);
    this.threads.delete(peer);
    for (const message of thread) if (message.wire) this.byWire.delete(message.wire);
    await this.store.delete(
      thread.map((message) => messageRecord(peer, message.id)),
      thread.filter((message) => message.file?.kept).map((message) => fileRecord(peer, message.id)),
    );
  }
}
