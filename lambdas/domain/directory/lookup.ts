/**
 * Reading the directory: public lookups by id (no proof needed), and contact matching by hashes
 * (the owner's proof, and a daily limit that is the real protection of phone-number hashes).
 */
import { toHex } from '../../../protocol/bytes.ts';
import { SwitchyardError } from '../../../protocol/errors.ts';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import type { DirectoryDeps, LookupResult, Match, Proof } from './ports.ts';
import { DAY_SECONDS, type Guards } from './proofs.ts';

export function createLookups(deps: DirectoryDeps, guards: Guards) {
  async function lookupMany(identities: readonly IdentityId[]): Promise<LookupResult[]> {
    const unique = [...new Set(identities)];
    const records = new Map(
      (await deps.identities.getMany(unique)).map((record) => [record.identity, record]),
    );
    return unique.map((identity) => {
      const record = records.get(identity);
      if (record?.state !== 'active' || !record.publicKey) return { identity, state: 2 } as const;
      return {
        identity,
        state: 0,
        publicKey: record.publicKey,
        featureMask: record.featureMask ?? 0,
      } as const;
    });
  }

  return {
    /** One identity's public data; unknown, revoked and deleted identities are alike: not_found. */
    async lookup(identity: IdentityId): Promise<LookupResult> {
      const [result] = await lookupMany([identity]);
      if (result?.state !== 0) throw new SwitchyardError('not_found');
      return result;
    },

    /** Many identities at once, in request order (duplicates once); unknown, revoked and deleted ones are state 2. */
    lookupMany,

    /** Matches contact hashes against linked identities; the hashes are used here and forgotten. */
    async match(
      identity: IdentityId,
      hashes: { email: Uint8Array[]; phone: Uint8Array[] },
      proof: Proof,
    ): Promise<Match[]> {
      const count = hashes.email.length + hashes.phone.length;
      await guards.authenticate(identity, proof, {
        purpose: 'match',
        identity,
        emailHashes: hashes.email.map(toHex),
        phoneHashes: hashes.phone.map(toHex),
      });
      await guards.limit('match', identity, LIMITS.matchHashesPerDay, DAY_SECONDS, count);
      const matches: Match[] = [];
      for (const kind of ['email', 'phone'] as const) {
        for (const hash of hashes[kind]) {
          for (const record of await deps.identities.findByHash(kind, hash)) {
            if (record.state === 'active' && record.publicKey && record.identity !== identity) {
              matches.push({ identity: record.identity, publicKey: record.publicKey, kind, hash });
            }
          }
        }
      }
      return matches;
    },
  };
}
