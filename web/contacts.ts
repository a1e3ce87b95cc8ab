/**
 * Public keys of people this identity wrote with (public data; kept in localStorage for the next
 * visit and for the Safe backup). Keys never change for an ID, so a known key is used as it is.
 */
import { ChatError } from '../client/chat/session.ts';
import type { DirectoryClient } from '../client/directory/client.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { isSmallOrderKey } from '../protocol/crypto.ts';
import { ID_PATTERN } from './page.ts';

export class Contacts {
  private readonly keys = new Map<string, Uint8Array>();

  constructor(
    private readonly storageKey: string,
    private readonly directory: DirectoryClient,
  ) {}

  /** Reads the saved list. */
  load(): void {
    try {
      const saved = JSON.parse(localStorage.getItem(this.storageKey) ?? '{}') as Record<string, string>;
      for (const [id, key] of Object.entries(saved)) {
        const bytes = fromHex(key);
        if (ID_PATTERN.test(id) && bytes?.length === 32 && !isSmallOrderKey(bytes)) this.keys.set(id, bytes);
      }
    } catch {
      // A damaged list is rebuilt from the directory as people write.
    }
  }

  remember(id: string, publicKey: Uint8Array): void {
    this.keys.set(id, publicKey);
    localStorage.setItem(
      this.storageKey,
      JSON.stringify(Object.fromEntries([...this.keys].map(([peer, key]) => [peer, toHex(key)]))),
    );
  }

  /** A peer's public key: known contacts first, else the directory. */
  async publicKeyOf(id: string): Promise<Uint8Array> {
    const known = this.keys.get(id);
    if (known) return known;
    const entry = await this.directory.lookup(id);
    if (!entry?.publicKey) throw new ChatError('unknown_recipient');
    this.remember(id, entry.publicKey);
    return entry.publicKey;
  }

  entries(): [string, Uint8Array][] {
    return [...this.keys];
  }

  /** Deletes the saved list (the identity is being forgotten on this device). */
  forget(): void {
    localStorage.removeItem(this.storageKey);
  }
}
