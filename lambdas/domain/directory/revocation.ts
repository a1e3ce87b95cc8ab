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
import { DAY_SECONDS, type Guards, rateWindow } from './proofs.ts';

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
  // Closed before the purge: a send racing the revocation then finds the mailbox closed.
  await deps.sessions.closeAll(await deps.mailbox.close(identity));
  await deps.mailbox.purge(identity);
  for (const kind of ['email', 'phone'] as const) await deps.ephemeral.deletePendingLink(identity, kind);
}

/** What a revocation attempt's proof of work is bound to (protocol/work.ts). */
export function revokeWorkSubject(identity: IdentityId) {
  return { purpose: 'revoke', identity } as const;
}

/** At most `permits` tasks at once in this process; the others wait their turn (FIFO). */
export function semaphore(permits: number) {
  let free = permits;
  const waiting: Array<() => void> = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

export function createRevocation(deps: DirectoryDeps, guards: Guards) {
  // One process runs few scrypts at once (32 MiB, ~100 ms each): a flood waits instead of
  // exhausting the function's memory and starving the other routes of CPU.
  const limited = semaphore(LIMITS.revocationScryptConcurrency);
  const failures = (identity: IdentityId) => rateWindow('revoke', identity, DAY_SECONDS, guards.nowSeconds());

  /**
   * The work one revocation attempt on `identity` needs now: the base, doubled for every
   * `revocationFailuresPerExtraWorkBit` wrong attempts today, capped, so it never becomes a refusal.
   */
  async function revokeWorkBits(identity: IdentityId): Promise<number> {
    const wrong = await deps.ephemeral.count(failures(identity).key);
    return Math.min(
      LIMITS.revocationWorkBitsMax,
      LIMITS.revocationWorkBits + Math.floor(wrong / LIMITS.revocationFailuresPerExtraWorkBit),
    );
  }

  return {
    revokeWorkBits,

    /**
     * Revokes without the device, with the revocation password. Can only destroy, never use.
     * Each attempt pays proof of work first (checked with one hash, before the scrypt); wrong
     * attempts raise the work for that identity up to a cap, but nothing ever refuses the right
     * password.
     */
    async revoke(identity: IdentityId, password: string, token: Uint8Array, work: Uint8Array): Promise<void> {
      // One stamp, one guess: spent before the scrypt, so the work can't be used twice.
      await (await guards.work(token, work, revokeWorkSubject(identity), await revokeWorkBits(identity)))();
      const record = await deps.identities.get(identity);
      const secret = record?.state === 'active' ? record.revocation : undefined;
      // Unknown ids and ids without a password cost the same scrypt, so timing tells nothing.
      const params = secret ?? {
        ...LIMITS.revocationScrypt,
        salt: new Uint8Array(16),
        hash: new Uint8Array(32),
      };
      const hash = await limited(() => scryptAsync(password, params.salt, params));
      if (!secret || !constantTimeEqual(hash, secret.hash)) {
        const { key, endsAt } = failures(identity);
        await deps.ephemeral.consume(key, 1, Number.MAX_SAFE_INTEGER, endsAt);
        throw new SwitchyardError('revocation_failed');
      }
      await forget(deps, identity);
    },
  };
}
