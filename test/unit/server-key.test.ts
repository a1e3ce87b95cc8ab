import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../client/cli/main.ts';
import { loadOrCreateServerKey } from '../../local/server-key.ts';
import { toHex } from '../../protocol/bytes.ts';
import { keyPairFromSecret } from '../../protocol/crypto.ts';
import { serverPublicKeyHex, serverSecretKeyFromString } from '../../protocol/server-key.ts';

describe('server key', () => {
  it('takes 64 hex characters as the key itself', () => {
    const hex = 'ab'.repeat(32);
    expect(toHex(serverSecretKeyFromString(hex))).toBe(hex);
  });

  it('hashes a generated secret string into the key, the same way every time', () => {
    const generated = 'Zq8VtA2kP0mXcR7yLbN4sW9eHjU1oD6fGi3TxKaB5nQwErYuIpLzMcVbSdFgHjKl';
    const key = serverSecretKeyFromString(generated);
    expect(key).toHaveLength(32);
    expect(toHex(key)).not.toBe(toHex(serverSecretKeyFromString(`${generated}x`)));
    expect(serverPublicKeyHex(generated)).toBe(toHex(keyPairFromSecret(key).publicKey));
  });

  it('refuses short or missing secrets', () => {
    expect(() => serverSecretKeyFromString('short')).toThrow('at least 32 characters');
    expect(() => serverSecretKeyFromString(undefined)).toThrow();
  });

  it('is printed by `switchyard server-key --data-dir` as the runner prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-key-'));
    try {
      const pair = loadOrCreateServerKey(dir);
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (chunk) => {
        out += chunk;
      });
      const io = { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: {} };
      expect(await runCli(['server-key', '--data-dir', dir], io)).toBe(0);
      expect(out.trim()).toBe(toHex(pair.publicKey));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
