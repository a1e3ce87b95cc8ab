/**
 * What the page keeps on this device besides the key: conversations, contacts, settings and
 * received files, in IndexedDB, every record sealed with NaCl secretbox under a key derived from the
 * identity's secret key (and the passphrase, when one locks the key):
 *
 *   root    = HKDF-SHA256(ikm = secretKey ‖ UTF-8(passphrase, NFC), salt = "switchyard web store v1")
 *   seal    = HKDF-Expand(root, "records", 32)     the secretbox key of every record
 *   index   = HKDF-Expand(root, "index", 32)       names records: HMAC-SHA256(index, name)[0..16], hex
 *   record  = { nonce: 24 random bytes, box: secretbox(JSON or bytes, nonce, seal) }
 *
 * Record names ("m:<peer>:<message id>", "c:<peer>", …) never reach the database: it holds opaque
 * names and ciphertext, so who talked to whom stays unreadable without the key. The server has
 * none of this (it forgot the messages on delivery); "delete conversation" and "forget this
 * identity" delete it here.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../protocol/bytes.ts';
import { randomBytes, SECRETBOX_NONCE_BYTES, secretboxOpen, secretboxSeal } from '../protocol/crypto.ts';

const RECORDS = 'records';
const FILES = 'files';
const utf8 = (text: string) => new TextEncoder().encode(text);
const SALT = utf8('switchyard web store v1');

interface Sealed {
  readonly nonce: Uint8Array;
  readonly box: Uint8Array;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The two keys of a store, from the identity's secret key and the passphrase (empty: none). */
export function storeKeys(secretKey: Uint8Array, passphrase: string) {
  const passphraseBytes = new TextEncoder().encode(passphrase.normalize('NFC'));
  const ikm = new Uint8Array(secretKey.length + passphraseBytes.length);
  ikm.set(secretKey);
  ikm.set(passphraseBytes, secretKey.length);
  const root = hkdf(sha256, ikm, SALT, utf8('root'), 32);
  return {
    seal: hkdf(sha256, root, undefined, utf8('records'), 32),
    index: hkdf(sha256, root, undefined, utf8('index'), 32),
  };
}

export class DeviceStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly keys: { readonly seal: Uint8Array; readonly index: Uint8Array },
  ) {}

  /** Opens (creating if needed) the database `name`, sealed for this identity and passphrase. */
  static async open(name: string, secretKey: Uint8Array, passphrase: string): Promise<DeviceStore> {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore(RECORDS);
      open.result.createObjectStore(FILES);
    };
    return new DeviceStore(await request(open), storeKeys(secretKey, passphrase));
  }

  /** Deletes the database `name` and everything in it. */
  static async destroy(name: string): Promise<void> {
    await request(indexedDB.deleteDatabase(name)).catch(() => undefined);
  }

  private slot(name: string): string {
    return toHex(hmac(sha256, this.keys.index, new TextEncoder().encode(name)).subarray(0, 16));
  }

  private seal(plain: Uint8Array): Sealed {
    const nonce = randomBytes(SECRETBOX_NONCE_BYTES);
    return { nonce, box: secretboxSeal(plain, nonce, this.keys.seal) };
  }

  private open(value: unknown): Uint8Array | undefined {
    const sealed = value as Partial<Sealed> | undefined;
    if (!(sealed?.nonce instanceof Uint8Array) || !(sealed.box instanceof Uint8Array)) return undefined;
    try {
      return secretboxOpen(sealed.box, sealed.nonce, this.keys.seal);
    } catch {
      // Sealed under another key (another passphrase) or damaged: not ours to read.
      return undefined;
    }
  }

  /** Every record that opens under this store's key: `{ name, value }` as put. */
  async all(): Promise<Array<{ name: string; value: unknown }>> {
    const values: unknown[] = await request(this.db.transaction(RECORDS).objectStore(RECORDS).getAll());
    const out: Array<{ name: string; value: unknown }> = [];
    for (const value of values) {
      const plain = this.open(value);
      if (!plain) continue;
      try {
        const record = JSON.parse(new TextDecoder().decode(plain)) as { name?: unknown; value?: unknown };
        if (typeof record.name === 'string') out.push({ name: record.name, value: record.value });
      } catch {
        // A record this page did not write: skipped.
      }
    }
    return out;
  }

  /** Stores (or replaces) the record `name`. */
  async put(name: string, value: unknown): Promise<void> {
    const transaction = this.db.transaction(RECORDS, 'readwrite');
    const plain = new TextEncoder().encode(JSON.stringify({ name, value }));
    transaction.objectStore(RECORDS).put(this.seal(plain), this.slot(name));
    await done(transaction);
  }

  /** Stores a file's bytes under `name`. */
  async putFile(name: string, bytes: Uint8Array): Promise<void> {
    const transaction = this.db.transaction(FILES, 'readwrite');
    transaction.objectStore(FILES).put(this.seal(bytes), this.slot(name));
    await done(transaction);
  }

  /** A file's bytes, or undefined when none is kept under `name`. */
  async file(name: string): Promise<Uint8Array | undefined> {
    return this.open(await request(this.db.transaction(FILES).objectStore(FILES).get(this.slot(name))));
  }

  /** Deletes records and files by name (in one transaction). */
  async delete(names: readonly string[], files: readonly string[] = []): Promise<void> {
    const transaction = this.db.transaction([RECORDS, FILES], 'readwrite');
    for (const name of names) transaction.objectStore(RECORDS).delete(this.slot(name));
    for (const name of files) transaction.objectStore(FILES).delete(this.slot(name));
    await done(transaction);
  }

  close(): void {
    this.db.close();
  }
}
