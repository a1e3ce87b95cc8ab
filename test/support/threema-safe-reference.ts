/**
 * A second, deliberately naive reading of the Threema Safe format, written from
 * ../shared/reference/threema-facts.md and nothing in client/ or protocol/: node:crypto's scrypt,
 * node:zlib and tweetnacl, called directly. Tests use it to check that what the SDK writes is what
 * a Threema app would read, and the reverse. Test-only.
 */
import { scryptSync } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import nacl from 'tweetnacl';

export interface ReferenceKeys {
  readonly backupIdHex: string;
  readonly key: Uint8Array;
}

/** masterKey = scrypt(password, salt = ID, N=65536, r=8, p=1, 64); id = [0,32), key = [32,64). */
export function referenceKeys(identity: string, password: string): ReferenceKeys {
  const master = scryptSync(Buffer.from(password, 'utf8'), Buffer.from(identity, 'utf8'), 64, {
    N: 65536,
    r: 8,
    p: 1,
    maxmem: 256 * 1024 * 1024,
  });
  return {
    backupIdHex: master.subarray(0, 32).toString('hex'),
    key: new Uint8Array(master.subarray(32, 64)),
  };
}

/** nonce(24) ‖ secretbox(gzip(json)); level 0 as the mobile apps use. */
export function referenceEncrypt(json: string, key: Uint8Array, nonce = nacl.randomBytes(24)): Uint8Array {
  const gz = gzipSync(Buffer.from(json, 'utf8'), { level: 0 });
  const box = nacl.secretbox(new Uint8Array(gz), nonce, key);
  return new Uint8Array(Buffer.concat([nonce, box]));
}

/** Returns the JSON text, or throws plain Errors naming what failed. */
export function referenceDecrypt(body: Uint8Array, key: Uint8Array): string {
  const nonce = body.subarray(0, 24);
  const opened = nacl.secretbox.open(body.subarray(24), nonce, key);
  if (!opened) throw new Error('reference: secretbox did not open');
  return gunzipSync(opened).toString('utf8');
}

/** A plausible backup JSON as a Threema app writes it (fields from the facts page). */
export function referenceBackupJson(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    info: { version: 1, device: 'reference-test/1.0' },
    user: {
      privatekey: Buffer.from(nacl.randomBytes(32)).toString('base64'),
      nickname: 'Reference',
      links: [{ type: 'email', value: 'someone@example.org' }],
    },
    contacts: [
      {
        identity: 'ECHOECHO',
        publickey: Buffer.from(nacl.randomBytes(32)).toString('hex'),
        verification: 0,
        createdAt: 1_700_000_000_000,
      },
    ],
    groups: [],
    distributionlists: [],
    settings: { syncContacts: false, blockUnknown: false, readReceipts: true },
    ...extra,
  });
}
