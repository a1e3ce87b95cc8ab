/**
 * A Safe backup protected by a short password (docs/SAFE.md, "Protected by the vault"): a random
 * 32-byte key names and encrypts the backup (protocol/vault.ts `vaultSafeMasterKey`, then the Threema
 * Safe format unchanged), and the key goes into the vault under the password. A restore opens the
 * vault (one try), then restores the backup. The backup's name comes from a random key, so unlike a
 * Threema Safe name it cannot be used to test password guesses; the password is only ever tested by
 * the vault, which counts the tries.
 *
 * Plain Threema Safe backups (`backupToSafe`, the Threema apps) are untouched by this.
 */
import { randomBytes } from '../../protocol/crypto.ts';
import { VAULT_KEY_BYTES, vaultSafeMasterKey } from '../../protocol/vault.ts';
import type { SafeClient } from '../safe/client.ts';
import type { SafeBackup } from '../safe/format.ts';
import { normaliseSafeIdentity, type SafeKeys, splitMasterKey } from '../safe/keys.ts';
import type { VaultClient, VaultGate } from './client.ts';

/** The two services a protected backup uses: the vault and a Safe server. */
export interface ProtectedSafeClients {
  readonly vault: VaultClient;
  readonly safe: SafeClient;
}

/** The Safe backup id and encryption key that a vaulted `key` gives for `identity`. */
export function vaultSafeKeys(identity: string, key: Uint8Array): SafeKeys {
  return splitMasterKey(vaultSafeMasterKey(normaliseSafeIdentity(identity), key));
}

/**
 * Backs up `backup` under a new random key and vaults that key under `password` (`tries` wrong
 * passwords allowed, 1–10). The backup is uploaded first, so a refused vault store (`address_required`:
 * no linked address the server sends codes to) never leaves the identity without its previous vault;
 * the just-uploaded backup is then deleted again. A backup protected earlier stays on the server,
 * unreadable (its key is gone), until the Safe's retention expires it.
 */
export async function protectSafeBackup(
  clients: ProtectedSafeClients,
  options: {
    readonly identity: string;
    readonly secretKey: Uint8Array;
    readonly password: string;
    readonly backup: SafeBackup | string;
    readonly tries: number;
  },
) {
  const identity = normaliseSafeIdentity(options.identity);
  const key = randomBytes(VAULT_KEY_BYTES);
  const keys = vaultSafeKeys(identity, key);
  const uploaded = await clients.safe.backup(keys, options.backup);
  try {
    await clients.vault.store(identity, options.secretKey, options.password, key, options.tries);
  } catch (error) {
    await clients.safe.delete(keys.backupId).catch(() => undefined);
    throw error;
  }
  return { ...uploaded, key };
}

/**
 * Opens the vault with `password` (spends one try; a right password restores them), then downloads
 * and decrypts the backup. `vault_login_failed` (a VaultError) for a wrong password or no vault.
 */
export async function restoreProtectedSafeBackup(
  clients: ProtectedSafeClients,
  options: { readonly identity: string; readonly password: string; readonly gate: VaultGate },
): Promise<{ backup: SafeBackup; json: string }> {
  const identity = normaliseSafeIdentity(options.identity);
  const key = await clients.vault.open(identity, options.password, options.gate);
  return clients.safe.restore(vaultSafeKeys(identity, key));
}
