/**
 * A secret the stack creates empty and a function fills on first use, once: the vault's OPRF setup
 * and the push functions' VAPID key pair. Each write carries a fixed client request token, so when
 * cold starts race, the first write wins, the others fail and read the winner's back. Nothing
 * overwrites a stored value. Kept apart from what is stored in it, so a function loads only its own
 * kind (the push functions never load the vault's OPAQUE library).
 */
import { SwitchyardError } from '../../protocol/errors.ts';
import { translateAwsError } from './errors.ts';

/** The two calls on the secret: read its current value, write the first one (false if one was written). */
export interface WriteOnceSecret {
  read(): Promise<string | undefined>;
  /** PutSecretValue with the secret's fixed client request token: true if this call stored `value`. */
  initialise(value: string): Promise<boolean>;
}

/**
 * The secret's value as `parse` reads it: the stored one if valid, else a fresh one from `make`,
 * written once; if another container wrote first, the winner's.
 */
export async function loadWriteOnce<T>(
  secret: WriteOnceSecret,
  parse: (text: string | undefined) => T | undefined | Promise<T | undefined>,
  make: () => string | Promise<string>,
): Promise<T> {
  const current = await parse(await translateAwsError(() => secret.read()));
  if (current !== undefined) return current;
  const fresh = await make();
  if (await translateAwsError(() => secret.initialise(fresh))) {
    const made = await parse(fresh);
    if (made !== undefined) return made;
  }
  const stored = await parse(await translateAwsError(() => secret.read()));
  if (stored !== undefined) return stored;
  throw new SwitchyardError('unavailable');
}
