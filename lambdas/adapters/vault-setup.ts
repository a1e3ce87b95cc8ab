/**
 * Where the vault's OPRF server setup comes from on AWS: a Secrets Manager secret (encrypted with a
 * KMS key only the vault function may use). The stack creates it empty; the function
 * makes the setup on first use and writes it with a fixed client request token, so when cold starts
 * race, the first write wins, the others fail and read the winner's back. Nothing overwrites a
 * stored setup: a new one would make every vault unopenable.
 */
import { createVaultSetup, isVaultSetup } from './opaque.ts';
import { loadWriteOnce, type WriteOnceSecret } from './write-once-secret.ts';

/** The client request token of the one write (Secrets Manager refuses a second value under it). */
export const VAULT_SETUP_REQUEST_TOKEN = 'switchyard-vault-oprf-setup-version-0001';

export function loadVaultSetup(secret: WriteOnceSecret): Promise<string> {
  return loadWriteOnce(
    secret,
    async (text) => (text !== undefined && (await isVaultSetup(text)) ? text : undefined),
    createVaultSetup,
  );
}
