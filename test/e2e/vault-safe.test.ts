/**
 * A Safe backup protected by a short password (docs/SAFE.md, "Protected by the vault"), through the
 * SDK and the CLI against the local runner: a random key names and encrypts the backup, the key sits
 * in the vault; restoring opens the vault, then the Safe. Plain Threema Safe backups keep working
 * beside it. The derivation is checked against node:crypto's HKDF, a second implementation.
 */

import { hkdfSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryClient } from '../../client/directory/client.ts';
import { SafeClient } from '../../client/safe/client.ts';
import { encodeSafeBackup, parseSafeBackup } from '../../client/safe/format.ts';
import { identityBackup } from '../../client/safe/identity.ts';
import { deriveSafeKeys } from '../../client/safe/keys.ts';
import { VaultClient, VaultError } from '../../client/vault/client.ts';
import { protectSafeBackup, restoreProtectedSafeBackup, vaultSafeKeys } from '../../client/vault/safe.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { runCli } from '../support/cli.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';
import { freshFetch, vaultTriesLeft } from '../support/vault.ts';

let test: TestRunner;
let directory: DirectoryClient;
let clients: { vault: VaultClient; safe: SafeClient };
const codeLines: string[] = [];
const EMAIL = 'protected.backup@example.org';
const SHORT_PASSWORD = '2468';

const lastCode = () => /: ([0-9]{6})$/.exec(codeLines.at(-1) ?? '')?.[1];

async function owner() {
  const keys = generateKeyPair();
  const identity = await directory.createIdentity(keys);
  const own = directory.owner(identity, keys.secretKey);
  await own.link('email', EMAIL);
  await own.confirm('email', lastCode()!);
  return { identity: identity as IdentityId, keys };
}

const tries = (identity: string) => vaultTriesLeft(test, identity);

beforeAll(async () => {
  await opaque.ready;
  test = await startTestRunner({ codeSink: (line) => codeLines.push(line) });
  directory = new DirectoryClient({ server: test.runner.httpUrl, fetch: freshFetch });
  clients = {
    vault: new VaultClient({ server: test.runner.httpUrl, fetch: freshFetch }),
    safe: new SafeClient({ server: test.runner.safeUrl, fetch: freshFetch }),
  };
});

afterAll(async () => {
  await test?.stop();
});

describe('protected Safe backup', () => {
  it('derives the backup name and key from the vaulted key as docs/SAFE.md says (node:crypto HKDF)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const expected = new Uint8Array(
      hkdfSync(
        'sha256',
        key,
        new Uint8Array(0),
        Buffer.from('switchyard-vault-safe-v1:ECHOECHO', 'ascii'),
        64,
      ),
    );
    const keys = vaultSafeKeys('echoecho', key);
    expect(keys.backupId).toBe(toHex(expected.subarray(0, 32)));
    expect(keys.encryptionKey).toEqual(expected.subarray(32));
    // The vector docs/SAFE.md prints, so an independent client can check itself.
    expect(keys.backupId).toBe('5511c0fd1dae1f201dfc381b3cd3a1024937cfc204f6eec69a241ee4922995c5');
    expect(toHex(keys.encryptionKey)).toBe(
      '388e175665c77be8b189c1b6c0a7caf0d3f519ac3f8a5906b4e5895cf13a397a',
    );
  });

  it('backs up under a random key, restores with the short password after a code, and a new key each time', async () => {
    const { identity, keys } = await owner();
    const backup = identityBackup({ identity, keys }, { device: 'vault-safe test' });
    const first = await protectSafeBackup(clients, {
      identity,
      secretKey: keys.secretKey,
      password: SHORT_PASSWORD,
      backup,
      tries: 3,
    });
    const named = vaultSafeKeys(identity, first.key);
    expect(await clients.safe.exists(named.backupId)).toBe(true);

    // A wrong password spends a try and releases nothing.
    const wrongCode = await clients.vault.requestCode(identity, 'email', EMAIL);
    await expect(
      restoreProtectedSafeBackup(clients, {
        identity,
        password: '1357',
        gate: { request: wrongCode, code: lastCode()! },
      }),
    ).rejects.toMatchObject({ code: 'vault_login_failed' });
    expect(await tries(identity)).toBe(2);

    // The lost-device path: no identity key, a code to the linked address, the short password.
    const request = await clients.vault.requestCode(identity, 'email', EMAIL);
    const restored = await restoreProtectedSafeBackup(clients, {
      identity,
      password: SHORT_PASSWORD,
      gate: { request, code: lastCode()! },
    });
    expect(restored.json).toBe(encodeSafeBackup(backup));
    expect(await tries(identity)).toBe(3);

    // Protecting again draws a new key and name; the vault now holds the new key.
    const second = await protectSafeBackup(clients, {
      identity,
      secretKey: keys.secretKey,
      password: SHORT_PASSWORD,
      backup,
      tries: 3,
    });
    expect(toHex(second.key)).not.toBe(toHex(first.key));
    expect(vaultSafeKeys(identity, second.key).backupId).not.toBe(named.backupId);
    const again = await restoreProtectedSafeBackup(clients, {
      identity,
      password: SHORT_PASSWORD,
      gate: { secretKey: keys.secretKey },
    });
    expect(again.backup.user.privatekey).toBe(backup.user.privatekey);
  });

  it('uploads nothing that stays when the vault refuses the key (no linked address)', async () => {
    const keys = generateKeyPair();
    const identity = (await directory.createIdentity(keys)) as IdentityId;
    const listed = async () =>
      (await test.clients.s3.send(new ListObjectsV2Command({ Bucket: test.runner.safeBucket }))).KeyCount ??
      0;
    const before = await listed();
    await expect(
      protectSafeBackup(clients, {
        identity,
        secretKey: keys.secretKey,
        password: SHORT_PASSWORD,
        backup: identityBackup({ identity, keys }, { device: 'vault-safe test' }),
        tries: 3,
      }),
    ).rejects.toMatchObject({ code: 'address_required' });
    expect(await listed()).toBe(before);
  });

  it('leaves plain Threema Safe backups of the same identity working beside it', async () => {
    const { identity, keys } = await owner();
    const backup = identityBackup({ identity, keys }, { device: 'vault-safe test' });
    await protectSafeBackup(clients, {
      identity,
      secretKey: keys.secretKey,
      password: SHORT_PASSWORD,
      backup,
      tries: 2,
    });
    const threema = await deriveSafeKeys(identity, 'a long Threema Safe password');
    await clients.safe.backup(threema, backup);
    expect((await clients.safe.restore(threema)).backup.user.privatekey).toBe(backup.user.privatekey);
    const opened = await restoreProtectedSafeBackup(clients, {
      identity,
      password: SHORT_PASSWORD,
      gate: { secretKey: keys.secretKey },
    });
    expect(opened.backup.user.privatekey).toBe(backup.user.privatekey);
    // A wrong short password is the vault's refusal, never a Safe lookup under a password-named backup.
    await expect(
      restoreProtectedSafeBackup(clients, {
        identity,
        password: 'nope',
        gate: { secretKey: keys.secretKey },
      }),
    ).rejects.toBeInstanceOf(VaultError);
  });
});

describe('switchyard safe --vault (CLI)', () => {
  it('backs up the identity file under a short password and restores it with the identity file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-vault-safe-'));
    const common = ['--server', test.runner.httpUrl, '--identity-file', join(dir, 'id.json')];
    try {
      expect((await runCli(['id', 'create', '--no-passphrase', ...common])).code).toBe(0);
      expect((await runCli(['link', 'email', EMAIL, ...common])).code).toBe(0);
      expect((await runCli(['link', 'confirm', 'email', lastCode()!, ...common])).code).toBe(0);
      const stored = await runCli(
        ['safe', 'backup', '--vault', '--tries', '2', '--password-stdin', ...common],
        {
          stdin: `${SHORT_PASSWORD}\n`,
        },
      );
      expect(stored).toMatchObject({ code: 0 });
      expect(stored.stderr).toContain('protected by the vault: 2 wrong passwords allowed');
      const identity = JSON.parse(readFileSync(join(dir, 'id.json'), 'utf8')).identity as string;
      expect(await tries(identity)).toBe(2);

      const wrong = await runCli(['safe', 'restore', '--vault', '--password-stdin', ...common], {
        stdin: 'nope\n',
      });
      expect(wrong.code).toBe(3);
      expect(await tries(identity)).toBe(1);
      const out = join(dir, 'restored.json');
      const restored = await runCli(
        ['safe', 'restore', '--vault', '--out', out, '--password-stdin', ...common],
        {
          stdin: `${SHORT_PASSWORD}\n`,
        },
      );
      expect(restored.code).toBe(0);
      expect(parseSafeBackup(readFileSync(out, 'utf8')).info.device).toBe('Switchyard CLI');
      expect(await tries(identity)).toBe(2);

      // Restoring the identity file itself cannot use that file as the proof: a code is needed.
      const usage = await runCli(
        ['safe', 'restore', '--vault', '--write-identity', '--identity', identity, ...common],
        { stdin: '' },
      );
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('--email or --phone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
