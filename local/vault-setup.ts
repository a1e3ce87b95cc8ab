/**
 * The vault's OPRF server setup, made at first start and kept in DATA_DIR (mode 0600), like the
 * server key. On AWS the same setup lives in Secrets Manager under a KMS key only the vault
 * function may use. Losing it makes every stored vault unopenable (fails closed): keep the folder.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createVaultSetup, isVaultSetup } from '../lambdas/adapters/opaque.ts';

export const VAULT_SETUP_FILE = 'vault-setup.json';

export async function loadOrCreateVaultSetup(dataDir: string): Promise<string> {
  const path = join(dataDir, VAULT_SETUP_FILE);
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { setup?: unknown };
    if (typeof stored.setup !== 'string' || !(await isVaultSetup(stored.setup)))
      throw new Error(`${VAULT_SETUP_FILE} in the data folder is damaged; without it no stored vault opens`);
    chmodSync(path, 0o600);
    return stored.setup;
  }
  const setup = await createVaultSetup();
  writeFileSync(path, `${JSON.stringify({ setup })}\n`, { mode: 0o600, flag: 'wx' });
  return setup;
}
