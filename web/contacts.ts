/**
 * The people this identity writes with: each contact's public key (from the directory, a scanned
 * QR code or a Safe backup), the name the user gave it (kept on this device and in the backup only)
 * and how far its key is verified, Threema's three levels:
 *
 *   0  ●○○  the key came from the directory
 *   1  ●●○  the directory matched it to a linked phone number or e-mail address (kept from backups)
 *   2  ●●●  verified in person: fingerprints compared, or the contact's QR code scanned
 *
 * A key never changes for an ID, so a known key is used as it is. The fingerprint is Threema's:
 * the first 16 bytes of SHA-256 of the public key, in hex. The QR code carries Threema's contact
 * text, `3mid:<ID>,<public key, 64 hex>`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ChatError } from '../client/chat/session.ts';
import type { DirectoryClient } from '../client/directory/client.ts';
import { KeyFileError } from '../client/identity-record.ts';
import {
  type BackupContact,
  MAX_CONTACT_NAME_CHARS,
  type VerificationLevel,
} from '../client/safe/identity.ts';
import { fromHex, toHex } from '../protocol/bytes.ts';
import { constantTimeEqual, isSmallOrderKey } from '../protocol/crypto.ts';
import { ID_PATTERN } from './page.ts';
import type { DeviceStore } from './store.ts';

export interface Contact {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly name: string;
  readonly verification: VerificationLevel;
}

export const LEVEL_TEXT: Record<VerificationLevel, string> = {
  0: 'Key from the directory (not verified)',
  1: 'Key matched by the directory to a phone number or e-mail address',
  2: 'Verified in person',
};

/** The key fingerprint a person compares: SHA-256 of the key, first 16 bytes, hex in groups of 4. */
export function fingerprint(publicKey: Uint8Array): string {
  return (toHex(sha256(publicKey).subarray(0, 16)).match(/.{4}/g) ?? []).join(' ');
}

/** The text of a contact's QR code (Threema's format). */
export function qrText(id: string, publicKey: Uint8Array): string {
  return `3mid:${id},${toHex(publicKey)}`;
}

/** A scanned or pasted QR text as an ID and key; throws a KeyFileError with words for the person. */
export function parseQrText(text: string): { id: string; publicKey: Uint8Array } {
  const match = /^3mid:([0-9A-Z]{8}),([0-9a-fA-F]{64})$/.exec(text.trim());
  const publicKey = match ? fromHex(match[2]!.toLowerCase()) : undefined;
  if (!match || !publicKey || isSmallOrderKey(publicKey))
    throw new KeyFileError('That is not a contact code: it should read 3mid:ID,KEY.');
  return { id: match[1]!, publicKey };
}

const RECORD = (id: string) => `c:${id}`;

export class Contacts {
  private readonly byId = new Map<string, Contact>();
  /** Called after any change (the list and the open conversation redraw). */
  onChange: () => void = () => {};

  constructor(
    private readonly store: DeviceStore,
    private readonly directory: DirectoryClient,
  ) {}

  /** Takes the contacts among the store's records (DeviceStore.all). */
  load(records: ReadonlyArray<{ name: string; value: unknown }>): void {
    for (const { name, value } of records) {
      if (!name.startsWith('c:')) continue;
      const saved = (value ?? {}) as Record<string, unknown>;
      const publicKey = typeof saved.key === 'string' ? fromHex(saved.key) : undefined;
      const id = name.slice(2);
      if (!ID_PATTERN.test(id) || publicKey?.length !== 32 || isSmallOrderKey(publicKey)) continue;
      const level = saved.verification === 1 || saved.verification === 2 ? saved.verification : 0;
      const contactName = typeof saved.name === 'string' ? saved.name.slice(0, MAX_CONTACT_NAME_CHARS) : '';
      this.byId.set(id, { id, publicKey, name: contactName, verification: level });
    }
  }

  get(id: string): Contact | undefined {
    return this.byId.get(id);
  }

  /** All contacts, by name (or ID). */
  list(): Contact[] {
    return [...this.byId.values()].sort((a, b) => label(a).localeCompare(label(b)));
  }

  /** What to call `id` on screen: its name and ID, or the ID alone. */
  label(id: string): string {
    const contact = this.byId.get(id);
    return contact ? label(contact) : id;
  }

  private async save(contact: Contact): Promise<void> {
    this.byId.set(contact.id, contact);
    await this.store.put(RECORD(contact.id), {
      key: toHex(contact.publicKey),
      name: contact.name,
      verification: contact.verification,
    });
    this.onChange();
  }

  /**
   * Adds or updates a contact. A key other than the one already known for the ID is refused: an
   * ID's key never changes, so a different one is somebody else's.
   */
  async remember(
    id: string,
    publicKey: Uint8Array,
    update: { name?: string; verification?: VerificationLevel } = {},
  ): Promise<Contact> {
    const known = this.byId.get(id);
    if (known && !constantTimeEqual(known.publicKey, publicKey))
      throw new KeyFileError(`That is not the key of ${id} this device knows. Nothing was changed.`);
    const contact: Contact = {
      id,
      publicKey,
      name: (update.name ?? known?.name ?? '').trim().slice(0, MAX_CONTACT_NAME_CHARS),
      verification: Math.max(update.verification ?? 0, known?.verification ?? 0) as VerificationLevel,
    };
    await this.save(contact);
    return contact;
  }

  /** Renames a known contact (an empty name removes it). */
  async rename(id: string, name: string): Promise<void> {
    const known = this.byId.get(id);
    if (known) await this.save({ ...known, name: name.trim().slice(0, MAX_CONTACT_NAME_CHARS) });
  }

  /** Marks a known contact's key as verified in person. */
  async verify(id: string): Promise<void> {
    const known = this.byId.get(id);
    if (known) await this.save({ ...known, verification: 2 });
  }

  /** A contact by ID: known ones first, else looked up in the directory and remembered. */
  async resolve(id: string): Promise<Contact> {
    const known = this.byId.get(id);
    if (known) return known;
    const entry = await this.directory.lookup(id);
    if (!entry?.publicKey) throw new ChatError('unknown_recipient');
    return this.remember(id, entry.publicKey);
  }

  /** A peer's public key (what the chat session asks for). */
  async publicKeyOf(id: string): Promise<Uint8Array> {
    return (await this.resolve(id)).publicKey;
  }

  /** The contacts as a Safe backup lists them. */
  forBackup(): BackupContact[] {
    return this.list().map((contact) => ({
      identity: contact.id,
      publicKey: contact.publicKey,
      verification: contact.verification,
      ...(contact.name ? { name: contact.name } : {}),
    }));
  }
}

function label(contact: Contact): string {
  return contact.name ? `${contact.name} (${contact.id})` : contact.id;
}
