/**
 * The few primitives the SDK needs that differ between Node and browsers: scrypt and gzip. Node
 * runs its native implementations (scrypt off the main thread, ~0.2 s for Threema Safe's
 * parameters); bundlers that honour package.json's `browser` field (esbuild, webpack, Rollup's
 * node-resolve) swap this file for ./browser.ts. Both produce the same bytes:
 * test/unit/platform.test.ts checks it with Threema's own test vector.
 */
import { scrypt as nodeScrypt } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** scrypt(password, salt) → `length` bytes. */
export function scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
  length: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    nodeScrypt(
      password,
      salt,
      length,
      // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is below Threema Safe's 64 MiB.
      { ...params, maxmem: 256 * params.N * params.r },
      (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))),
    ),
  );
}

/** gzip at level 0 (stored blocks), as the Threema apps write Safe backups. */
export function gzipStored(data: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(data, { level: 0 }));
}

/** gunzip of any level; throws when the data is not gzip or inflates beyond `maxBytes`. */
export function gunzip(data: Uint8Array, maxBytes: number): Uint8Array {
  return new Uint8Array(gunzipSync(data, { maxOutputLength: maxBytes }));
}
