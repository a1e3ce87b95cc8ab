/**
 * Where the vault's OPRF server setup comes from on AWS: a Secrets Manager secret (encrypted with a
 * KMS key only the vault function may use). The stack creates it empty; the function
 * makes the setup on first use and writes it with a fixed client request token, so when cold starts
 * race, the first write wins, the others fail and read the winner's back. Nothing overwrites a
 * stored setup: a new one would make every vault unopenable.
 */
import { SwitchyardError } from '../../protocol/errors.ts';
import { translateAwsError } from './errors.ts';
import { createVaultSetup, isVaultSetup } from './opaque.ts';

/** The two calls on the secret: read its current value, write the first setup (false if one was written). */
export interface VaultSetupSecret {
  read(): Promise<string | undefined>;
  /** PutSecretValue with {@link VAULT_SETUP_REQUEST_TOKEN}: true if this call stored `value`. */
  initialise(value: string): Promise<boolean>;
}

/** The client request token of the one write (Secrets Manager refuses a second value under it). */
export const VAULT_SETUP_REQUEST_TOKEN = 'switchyard-vault-oprf-setup-version-0001';

export async function loadVaultSetup(secret: VaultSetupSecret): Promise<string> {
  const current = await translateAwsError(() => secret.read());
  if (current !== undefined && (await isVaultSetup(current))) return current;
  const fresh = await createVaultSetup();
  if (await translateAwsError(() => secret.initialise(fresh))) return fresh;
  const stored = await translateAwsError(() => secret.read());
  if (stored !== undefined && (await isVaultSetup(stored))) return stored;
  throw new SwitchyardError('unavailable');
}
