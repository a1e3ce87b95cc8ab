import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as browser from '../../client/platform/browser.ts';
import * as node from '../../client/platform/node.ts';
import { toHex } from '../../protocol/bytes.ts';
import { SAFE_MASTER_KEY_BYTES, SAFE_SCRYPT } from '../../protocol/safe.ts';

// Threema's own Safe test vector (../shared/reference/threema-facts.md).
const VECTOR = {
  password: 'shootdeathstar',
  identity: 'ECHOECHO',
  masterKey:
    '066384d3695fbbd9f31a7d533900fd0cd8d1373beb6a28678522d2a49980c9c351c3d8d752fb6e1fd3199ead7f0895d6e3893ff691f2a5ee1976ed0897fc2f66',
};

const utf8 = new TextEncoder();

describe('platform primitives (Node and browser builds of the SDK)', () => {
  it('derive the same Threema Safe master key with scrypt', { timeout: 60_000 }, async () => {
    const args = [
      utf8.encode(VECTOR.password),
      utf8.encode(VECTOR.identity),
      SAFE_SCRYPT,
      SAFE_MASTER_KEY_BYTES,
    ] as const;
    expect(toHex(await node.scrypt(...args))).toBe(VECTOR.masterKey);
    expect(toHex(await browser.scrypt(...args))).toBe(VECTOR.masterKey);
  });

  it('write the same level-0 gzip, and each reads what the other wrote', () => {
    const data = utf8.encode(JSON.stringify({ info: { version: 1 }, filler: 'x'.repeat(70_000) }));
    const fromNode = node.gzipStored(data);
    const fromBrowser = browser.gzipStored(data);
    // Stored blocks: the same length as Node's, and standard gzip that zlib itself opens.
    expect(fromBrowser.length).toBe(fromNode.length);
    expect(new Uint8Array(gunzipSync(fromBrowser))).toEqual(data);
    expect(browser.gunzip(fromNode, data.length)).toEqual(data);
    expect(node.gunzip(fromBrowser, data.length)).toEqual(data);
  });

  it('refuse to inflate beyond the limit, and data that is not gzip', () => {
    const data = utf8.encode('a'.repeat(1000));
    for (const platform of [node, browser]) {
      expect(() => platform.gunzip(platform.gzipStored(data), 999)).toThrow();
      expect(() => platform.gunzip(new Uint8Array(40), 1000)).toThrow();
    }
    // A trailer that lies about the content is caught, not silently truncated.
    const lying = browser.gzipStored(data);
    lying.set([10, 0, 0, 0], lying.length - 4);
    expect(() => browser.gunzip(lying, 1000)).toThrow();
  });
});
