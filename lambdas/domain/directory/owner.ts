/**
 * What an identity's owner does with a proof of possession: the feature mask, linking and
 * unlinking an address (by verification code), the revocation password, the data export, and
 * deletion.
 */
import { createHash, randomInt } from 'node:crypto';
import { toHex } from '../../../protocol/bytes.ts';
import { type ContactKind, contactHash, normaliseContact } from '../../../protocol/contacts.ts';
import { constantTimeEqual } from '../../../protocol/crypto.ts';
import { SwitchyardError } from '../../../protocol/errors.ts';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import { encodePushTargetView } from '../../../protocol/push-targets.ts';
import type { DirectoryDeps, Proof } from './ports.ts';
import { DAY_SECONDS, type Guards } from './proofs.ts';
import { forget, revocationSecret } from './revocation.ts';

export function createOwnerOperations(deps: DirectoryDeps, guards: Guards) {
  const { authenticate, limit, nowSeconds } = guards;
  return {
    async setFeatureMask(identity: IdentityId, featureMask: number, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'featureMask', identity, featureMask });
      if (!(await deps.identities.update(identity, { featureMask }))) throw new SwitchyardError('not_found');
    },

    /** Starts linking an address: sends a code to it. Only the hash is kept, and only once confirmed. */
    async link(identity: IdentityId, kind: ContactKind, address: string, proof: Proof): Promise<void> {
      if (!deps.codes.enabled || (deps.codes.kinds && !deps.codes.kinds.includes(kind)))
        throw new SwitchyardError('not_supported');
      const normalised = normaliseContact(kind, address);
      await authenticate(identity, proof, { purpose: 'link', identity, kind, address });
      await limit('code', identity, LIMITS.verificationCodesPerDay, DAY_SECONDS);
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await deps.ephemeral.putPendingLink({
        identity,
        kind,
        hash: contactHash(kind, normalised),
        codeDigest: new Uint8Array(createHash('sha256').update(code).digest()),
        tries: 0,
        expiresAt: nowSeconds() + LIMITS.verificationCodeTtlSeconds,
      });
      await deps.codes.send(kind, normalised, code);
    },

    /** Confirms a pending link with its code; the address's hash is stored, never the address. */
    async confirm(identity: IdentityId, kind: ContactKind, code: string, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'confirm', identity, kind, code });
      const pending = await deps.ephemeral.getPendingLink(identity, kind);
      if (!pending || pending.expiresAt < nowSeconds() || pending.tries >= LIMITS.verificationCodeTries) {
        throw new SwitchyardError('code_invalid');
      }
      const digest = new Uint8Array(createHash('sha256').update(code).digest());
      if (!constantTimeEqual(digest, pending.codeDigest)) {
        await deps.ephemeral.failPendingLink(identity, kind);
        throw new SwitchyardError('code_invalid');
      }
      await deps.ephemeral.deletePendingLink(identity, kind);
      if (!(await deps.identities.update(identity, { link: kind, hash: pending.hash })))
        throw new SwitchyardError('not_found');
    },

    async unlink(identity: IdentityId, kind: ContactKind, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'unlink', identity, kind });
      if (!(await deps.identities.update(identity, { unlink: kind }))) throw new SwitchyardError('not_found');
    },

    /** Stores a revocation password as salted scrypt, so the table alone reveals nothing cheaply. */
    async setRevocationPassword(identity: IdentityId, password: string, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'revocationPassword', identity, password });
      const revocation = await revocationSecret(password, deps.random.bytes(16));
      if (!(await deps.identities.update(identity, { revocation }))) {
        throw new SwitchyardError('not_found');
      }
    },

    /** Everything stored about the owner, with Threema's `*MY3DATA` keys. */
    async export(identity: IdentityId, proof: Proof) {
      const record = await authenticate(identity, proof, { purpose: 'export', identity });
      return {
        identity: record.identity,
        publicKey: toHex(record.publicKey),
        issueDate: record.issueDate ?? null,
        lastLogin: record.lastLogin ?? null,
        mobileNoHash: record.mobileNoHash ? toHex(record.mobileNoHash) : null,
        emailHash: record.emailHash ? toHex(record.emailHash) : null,
        featureMask: record.featureMask ?? 0,
        // Every push target with its kind and address (endpoint or token), as the owner registered it.
        pushTokens: ((await deps.pushTargets?.list(identity)) ?? []).map(encodePushTargetView),
        revocationKey: record.revocation !== undefined,
      };
    },

    /** Deletes the identity: its messages and every stored field; a bare tombstone keeps the id unused. */
    async delete(identity: IdentityId, proof: Proof): Promise<void> {
      await authenticate(identity, proof, { purpose: 'delete', identity });
      await forget(deps, identity);
    },
  };
}
