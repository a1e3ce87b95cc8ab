import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isEncrypted, loadIdentityFile, saveIdentityFile } from '../../client/keyfile.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import type { IdentityId } from '../../protocol/identity.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-keyfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const identity = 'ABCD1234' as IdentityId;

describe('identity file', () => {
  it('is readable by its owner only and round-trips the keys', async () => {
    const keys = generateKeyPair();
    const path = join(dir, 'plain.json');
    await saveIdentityFile(path, { identity, keys });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(isEncrypted(path)).toBe(false);
    const loaded = await loadIdentityFile(path);
    expect(loaded.identity).toBe(identity);
    expect(toHex(loaded.keys.secretKey)).toBe(toHex(keys.secretKey));
  });

  it('refuses to overwrite an existing identity file', async () => {
    const path = join(dir, 'plain.json');
    await expect(saveIdentityFile(path, { identity, keys: generateKeyPair() })).rejects.toThrow(/EEXIST/);
  });

  it('encrypts the secret key with a passphrase and refuses a wrong one', async () => {
    const keys = generateKeyPair();
    const path = join(dir, 'encrypted.json');
    await saveIdentityFile(path, { identity, keys }, { passphrase: 'open sesame' });
    expect(isEncrypted(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).not.toContain(toHex(keys.secretKey));
    await expect(loadIdentityFile(path)).rejects.toThrow('a passphrase is needed');
    await expect(loadIdentityFile(path, 'open sesamE')).rejects.toThrow('Wrong passphrase');
    expect(toHex((await loadIdentityFile(path, 'open sesame')).keys.secretKey)).toBe(toHex(keys.secretKey));
  });

  it('detects a damaged file', async () => {
    const path = join(dir, 'damaged.json');
    const keys = generateKeyPair();
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        identity,
        publicKey: toHex(generateKeyPair().publicKey),
        secretKey: toHex(keys.secretKey),
      }),
    );
    await expect(loadIdentityFile(path)).rejects.toThrow('damaged');
  });
});
