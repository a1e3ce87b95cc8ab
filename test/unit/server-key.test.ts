import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadOrCreateServerKey } from '../../local/server-key.ts';
import { runOps } from '../../ops/main.ts';
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

  it('is printed by `switchyard-ops server-key --data-dir` as the runner prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-key-'));
    try {
      const pair = loadOrCreateServerKey(dir);
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (chunk) => {
        out += chunk;
      });
      const io = { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: {} };
      expect(await runOps(['server-key', '--data-dir', dir], io)).toBe(0);
      expect(out.trim()).toBe(toHex(pair.publicKey));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the next key for a rotation: a 0600 file it never overwrites, and the public key to pin', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-key-'));
    const run = async (args: string[]) => {
      let out = '';
      let err = '';
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      stdout.on('data', (chunk) => {
        out += chunk;
      });
      stderr.on('data', (chunk) => {
        err += chunk;
      });
      const code = await runOps(['server-key', ...args], {
        stdin: new PassThrough(),
        stdout,
        stderr,
        env: {},
      });
      return { code, out, err };
    };
    try {
      const file = join(dir, 'next-server-key');
      const made = await run(['--new-secret-file', file]);
      expect(made.code).toBe(0);
      const secret = readFileSync(file, 'utf8').trim();
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(made.out.trim()).toBe(serverPublicKeyHex(secret));
      // The public key is all that is printed: the secret stays in the file.
      expect(made.out).not.toContain(secret);

      const again = await run(['--new-secret-file', file]);
      expect(again.code).toBe(1);
      expect(again.err).toContain('never overwritten');
      expect(readFileSync(file, 'utf8').trim()).toBe(secret);

      expect((await run(['--new-secret-file', join(dir, 'x'), '--data-dir', dir])).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
