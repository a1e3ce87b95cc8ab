/**
 * A browser key store: one identity per store, kept in IndexedDB in the same record format as the
 * CLI's identity file (client/identity-record.ts), so the secret key can be sealed with a
 * passphrase (scrypt + secretbox) and never sits in storage in the clear unless the user chose so.
 *
 *   const store = await BrowserKeyStore.open();
 *   const stored = await store.peek();                 // {identity, publicKey, encrypted} or undefined
 *   const { identity, keys } = await store.load(passphrase);
 *
 * Only for browsers (and anything else with `indexedDB`); Node programs use client/keyfile.ts.
 */
import type { IdentityId } from '../protocol/identity.ts';
import {
  encodeIdentityRecord,
  type IdentityKeys,
  identityRecordPublic,
  KeyFileError,
  openIdentityRecord,
} from './identity-record.ts';

const STORE = 'identity';
const KEY = 'current';
const LABEL = 'stored identity';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export class BrowserKeyStore {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creating if needed) the IndexedDB database `name`. */
  static async open(name = 'switchyard', factory: IDBFactory = indexedDB): Promise<BrowserKeyStore> {
    const open = factory.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    return new BrowserKeyStore(await request(open));
  }

  private async record(): Promise<Record<string, unknown> | undefined> {
    const value: unknown = await request(this.db.transaction(STORE).objectStore(STORE).get(KEY));
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null) throw new KeyFileError(`The ${LABEL} is damaged.`);
    return value as Record<string, unknown>;
  }

  /** The stored identity's public part (no passphrase needed), or undefined when none is stored. */
  async peek(): Promise<{ identity: IdentityId; publicKey: Uint8Array; encrypted: boolean } | undefined> {
    const body = await this.record();
    return body && identityRecordPublic(body, LABEL);
  }

  /** The stored identity and its key pair; throws KeyFileError ('missing', 'passphrase_needed', …). */
  async load(passphrase?: string): Promise<IdentityKeys> {
    const body = await this.record();
    if (!body) throw new KeyFileError(`There is no ${LABEL}.`, 'missing');
    return openIdentityRecord(body, LABEL, passphrase);
  }

  /**
   * Stores an identity, its secret key sealed under `passphrase` when one is given. Refuses to
   * replace a stored identity unless `overwrite`: losing a secret key loses the identity.
   */
  async save(file: IdentityKeys, options: { passphrase?: string; overwrite?: boolean } = {}): Promise<void> {
    const body = await encodeIdentityRecord(file, options.passphrase || undefined);
    const store = this.db.transaction(STORE, 'readwrite').objectStore(STORE);
    await request(options.overwrite ? store.put(body, KEY) : store.add(body, KEY)).catch((error) => {
      throw error instanceof DOMException && error.name === 'ConstraintError'
        ? new KeyFileError(`There is already a ${LABEL}; forget it first.`)
        : error;
    });
  }

  /** Deletes the stored identity (the identity itself stays registered on the server). */
  async forget(): Promise<void> {
    await request(this.db.transaction(STORE, 'readwrite').objectStore(STORE).delete(KEY));
  }

  close(): void {
    this.db.close();
  }
}
