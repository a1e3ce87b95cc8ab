/**
 * Revocation without the device (identity + revocation password), the salted scrypt that protects
 * the password, and what revocation and deletion both leave behind: a bare tombstone.
 */
import { scrypt } from 'node:crypto';
import { constantTimeEqual } from '../../../protocol/crypto.ts';
import { SwitchyardError } from '../../../protocol/errors.ts';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import type { DirectoryDeps, RevocationSecret } from './ports.ts';
import { DAY_SECONDS, type Guards } from './proofs.ts';

function scryptAsync(
  password: string,
  salt: Uint8Array,
  params: { N: number; r: number; p: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      32,
      { ...params, maxmem: 128 * params.N * params.r * 2 },
      (error, key) => (error ? reject(error) : resolve(new Uint8Array(key))),
    ),
  );
}

/** A revocation password as salted scrypt, so the table alone reveals nothing cheaply. */
export async function revocationSecret(password: string, salt: Uint8Array): Promise<RevocationSecret> {
  const params = LIMITS.revocationScrypt;
  return { salt, hash: await scryptAsync(password, salt, params), ...params };
}

/**
 * Revocation and deletion: a bare tombstone keeps the id from being issued again; the waiting
 * messages, live sessions and any pending address link go.
 */
export async function forget(deps: DirectoryDeps, identity: IdentityId): Promise<void> {
  await deps.identities.tombstone(identity);
  await deps.mailbox.purge(identity);
  await deps.sessions.closeAll(identity);
  for (const kind of ['email', 'phone'] as const) await deps.ephemeral.deletePendingLink(identity, kind);
}

export function createRevocation(deps: DirectoryDeps, guards: Guards) {
  return {
    /** Revokes without the device, with the revocation password. Can only destroy, never use. */
    async revoke(identity: IdentityId, password: string): Promise<void> {
      // Counted before any work, right or wrong, so guessing costs the attacker the limit.
      await guards.limit('revoke', identity, LIMITS.revocationAttemptsPerDay, DAY_SECONDS);
      const record = await deps.identities.get(identity);
      const secret = record?.state === 'active' ? record.revocation : undefined;
      // Unknown ids and ids without a password cost the same scrypt, so timing tells nothing.
      const params = secret ?? {
        ...LIMITS.revocationScrypt,
        salt: new Uint8Array(16),
        hash: new Uint8Array(32),
      };
      const hash = await scryptAsync(password, params.salt, params);
      if (!secret || !constantTimeEqual(hash, secret.hash)) throw new SwitchyardError('revocation_failed');
      await forget(deps, identity);
    },
  };
}
