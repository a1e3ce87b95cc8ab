/**
 * The backup key vault's rules (docs/SECURITY.md, "Vault"): a short password releases a client's
 * wrapped key through OPAQUE, with a hard limit on wrong passwords. No AWS imports: storage, the
 * OPAQUE server and code delivery come in through the ports below.
 *
 * - Each attempt spends a try by a conditional write *before* the server computes its OPAQUE answer
 *   (KE2, which already tells the client whether its password was right). A crash after the write
 *   fails closed: the try is spent, no answer left.
 * - A finished login (KE3 checked against the state kept with the login) releases the wrapped key
 *   and restores the tries. A login finishes at most once: taking it deletes it.
 * - The write that spends the last try deletes the record; only that attempt's own right finish
 *   can bring it back (with full tries). Otherwise it is gone for good.
 * - Griefing: an attempt needs a verification code sent to an address linked to the identity in the
 *   directory (or the owner's proof of key possession), so someone who knows only the ID cannot
 *   spend its tries. Code requests pay proof of work that grows with the codes sent that day.
 * - An unknown or exhausted vault answers like a known one: a code request always says 202, a start
 *   with the owner's proof gets a decoy KE2 and a login id whose finish fails like a wrong password.
 */
import { createHash, randomInt } from 'node:crypto';
import { toHex } from '../../protocol/bytes.ts';
import { type ContactKind, contactHash, normaliseContact } from '../../protocol/contacts.ts';
import { constantTimeEqual } from '../../protocol/crypto.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import {
  VAULT_CREDENTIAL_BYTES,
  VAULT_HANDLE_BYTES,
  vaultCodeWorkSubject,
  vaultCredentialIdentifier,
  vaultSigned,
} from '../../protocol/vault.ts';
import type { CodeSender, Proof } from './directory/ports.ts';
import { createGuards, DAY_SECONDS, type GuardDeps, rateWindow } from './directory/proofs.ts';

/** A vault: what the client registered and how many wrong passwords it still allows. */
export interface VaultRecord {
  readonly identity: IdentityId;
  /** The OPAQUE registration record (192 bytes). */
  readonly registration: Uint8Array;
  /**
   * The random credential identifier the registration was made under (16 bytes): the OPRF key is
   * derived from it. Absent only on records stored before it existed, which use the identity.
   */
  readonly credential?: Uint8Array;
  /** The client's key, wrapped under its export key: opaque to the server. */
  readonly wrapped: Uint8Array;
  readonly tries: number;
  /** What a finished login restores `tries` to: what the owner chose when storing. */
  readonly maxTries: number;
  /** Random, new on every store: a login counts against one version only. */
  readonly version: Uint8Array;
}

/** A login in progress: the record it spent a try of, the server's OPAQUE state once computed. */
export interface PendingLogin {
  readonly identity: IdentityId;
  readonly login: Uint8Array;
  /** Absent for a decoy (no vault): its finish always fails. */
  readonly record?: VaultRecord;
  readonly state?: Uint8Array;
  readonly expiresAt: number;
}

export interface PendingCode {
  readonly codeDigest: Uint8Array;
  readonly tries: number;
  readonly expiresAt: number;
}

export interface VaultStore {
  get(identity: IdentityId): Promise<VaultRecord | undefined>;
  /** Deletes everything of the identity (record, logins, codes), then stores `record`. */
  replace(record: VaultRecord): Promise<void>;
  /** Deletes everything of the identity. */
  removeAll(identity: IdentityId): Promise<void>;
  /**
   * Spends one try: a conditional decrement (tries > 0). The record after it, or undefined when
   * there is no record or no try left. The decrement that reaches zero deletes the record too.
   */
  spendTry(identity: IdentityId): Promise<VaultRecord | undefined>;
  putLogin(login: PendingLogin): Promise<void>;
  /** Adds the server's state to a login; false when the login is gone (replaced or deleted vault). */
  setLoginState(identity: IdentityId, login: Uint8Array, state: Uint8Array): Promise<boolean>;
  /** Deletes the login and returns it, or undefined when it is not there (never started, or taken). */
  takeLogin(identity: IdentityId, login: Uint8Array): Promise<PendingLogin | undefined>;
  /**
   * After a finished login: the record back at `maxTries`, if it is still the same version, or
   * re-created if the login spent its last try. False when the owner replaced it meanwhile.
   */
  restore(record: VaultRecord): Promise<boolean>;
  putCode(identity: IdentityId, request: Uint8Array, code: PendingCode): Promise<void>;
  /**
   * Counts one guess at a code before it is compared (so parallel guesses never get more than
   * `maxTries`), and returns the code's digest; undefined when there is no such code, it expired
   * or it is out of tries.
   */
  spendCodeTry(
    identity: IdentityId,
    request: Uint8Array,
    maxTries: number,
    now: number,
  ): Promise<Uint8Array | undefined>;
  /** Deletes the code; false if it was already taken (each code opens one attempt). */
  takeCode(identity: IdentityId, request: Uint8Array): Promise<boolean>;
}

/** The server half of OPAQUE, bound to the deployment's OPRF server setup. */
export interface OpaqueServer {
  /** `credentialIdentifier`: what the OPRF key is derived from (protocol/vault.ts). */
  registrationResponse(credentialIdentifier: string, request: Uint8Array): Promise<Uint8Array>;
  /** KE2 and the state to keep; a decoy KE2 (indistinguishable) when `registration` is undefined. */
  startLogin(
    credentialIdentifier: string,
    registration: Uint8Array | undefined,
    ke1: Uint8Array,
  ): Promise<{ ke2: Uint8Array; state: Uint8Array }>;
  /** Whether KE3 proves the client knew the password of the state's login. */
  finishLogin(state: Uint8Array, ke3: Uint8Array): Promise<boolean>;
}

export interface VaultDeps extends GuardDeps {
  readonly vault: VaultStore;
  readonly opaque: OpaqueServer;
  readonly codes: CodeSender;
}

/**
 * The OPRF key's name: the record's random credential, so evaluations under an earlier registration
 * or a decoy never help against this one; a decoy's is fixed per identity (a known vault's is fixed
 * per record), so asking twice looks the same for both.
 */
function credentialIdentifier(identity: IdentityId, record: VaultRecord | undefined): string {
  if (!record) return vaultCredentialIdentifier.decoy(identity);
  return record.credential ? vaultCredentialIdentifier.record(record.credential) : identity;
}

const sha = (text: string) => new Uint8Array(createHash('sha256').update(text).digest());

export function createVault(deps: VaultDeps) {
  const guards = createGuards(deps);
  const { nowSeconds } = guards;
  const codesToday = (identity: IdentityId) => rateWindow('vaultCode', identity, DAY_SECONDS, nowSeconds());

  /** The address kinds linked to an active identity that this deployment can send codes to. */
  function reachable(record: { emailHash?: Uint8Array; mobileNoHash?: Uint8Array }): ContactKind[] {
    if (!deps.codes.enabled) return [];
    const kinds: ContactKind[] = [];
    if (record.emailHash) kinds.push('email');
    if (record.mobileNoHash) kinds.push('phone');
    return kinds.filter((kind) => !deps.codes.kinds || deps.codes.kinds.includes(kind));
  }

  /** Work a code request for `identity` needs now: doubled every few codes today, capped. */
  async function codeWorkBits(identity: IdentityId): Promise<number> {
    const sent = await deps.ephemeral.count(codesToday(identity).key);
    return Math.min(
      LIMITS.vaultCodeWorkBitsMax,
      LIMITS.vaultCodeWorkBits + Math.floor(sent / LIMITS.vaultCodesPerExtraWorkBit),
    );
  }

  /** A try spent (or none, for no vault), a login stored, then, only then, KE2 computed. */
  async function startLogin(identity: IdentityId, ke1: Uint8Array) {
    const login = deps.random.bytes(VAULT_HANDLE_BYTES);
    const expiresAt = nowSeconds() + LIMITS.vaultLoginTtlSeconds;
    const record = await deps.vault.spendTry(identity);
    await deps.vault.putLogin({ identity, login, ...(record ? { record } : {}), expiresAt });
    const { ke2, state } = await deps.opaque.startLogin(
      credentialIdentifier(identity, record),
      record?.registration,
      ke1,
    );
    // A decoy keeps no state: its finish fails whatever it sends.
    if (record && !(await deps.vault.setLoginState(identity, login, state)))
      throw new SwitchyardError('vault_login_failed');
    return { login, ke2 };
  }

  return {
    /** A challenge for vault proofs and code requests, with the work a code request needs. */
    async challenge(identity: IdentityId) {
      const challenge = await guards.challenge('vaultCode', { identity });
      return { ...challenge, work: await codeWorkBits(identity) };
    },

    /**
     * OPAQUE registration, first half, under a new random credential (so the OPRF key it evaluates
     * is no stored vault's): the registration response and that credential, for `store`.
     */
    async register(identity: IdentityId, request: Uint8Array, proof: Proof) {
      await guards.authenticate(identity, proof, vaultSigned.register(identity, toHex(request)));
      const credential = deps.random.bytes(VAULT_CREDENTIAL_BYTES);
      const response = await deps.opaque.registrationResponse(
        vaultCredentialIdentifier.record(credential),
        request,
      );
      return { response, credential };
    },

    /**
     * Stores (or replaces) the vault: the registration record, the wrapped key, `tries` wrong
     * passwords allowed. Refused without an address that codes can reach: nobody could open it.
     */
    async store(
      identity: IdentityId,
      registration: Uint8Array,
      credential: Uint8Array,
      wrapped: Uint8Array,
      tries: number,
      proof: Proof,
    ) {
      const owner = await guards.authenticate(
        identity,
        proof,
        vaultSigned.store(identity, toHex(registration), toHex(credential), toHex(wrapped), tries),
      );
      if (reachable(owner).length === 0) throw new SwitchyardError('address_required');
      const version = deps.random.bytes(16);
      await deps.vault.replace({
        identity,
        registration,
        credential,
        wrapped,
        tries,
        maxTries: tries,
        version,
      });
    },

    async delete(identity: IdentityId, proof: Proof): Promise<void> {
      await guards.authenticate(identity, proof, vaultSigned.delete(identity));
      await deps.vault.removeAll(identity);
    },

    /**
     * Sends a code that unlocks one attempt to `address`, if it is linked to the identity, the
     * identity has a vault and codes reach that kind. The answer is the same in every case: a
     * request handle, under which only the right code works.
     */
    async requestCode(
      identity: IdentityId,
      kind: ContactKind,
      address: string,
      token: Uint8Array,
      work: Uint8Array,
    ): Promise<Uint8Array> {
      const normalised = normaliseContact(kind, address);
      await (await guards.work(token, work, vaultCodeWorkSubject(identity), await codeWorkBits(identity)))();
      const { key, endsAt } = codesToday(identity);
      await deps.ephemeral.consume(key, 1, Number.MAX_SAFE_INTEGER, endsAt);
      const request = deps.random.bytes(VAULT_HANDLE_BYTES);
      const owner = await deps.identities.get(identity);
      const linked =
        owner?.state === 'active' ? (kind === 'email' ? owner.emailHash : owner.mobileNoHash) : undefined;
      if (
        owner &&
        linked &&
        reachable(owner).includes(kind) &&
        constantTimeEqual(linked, contactHash(kind, normalised)) &&
        (await deps.vault.get(identity))
      ) {
        const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
        await deps.vault.putCode(identity, request, {
          codeDigest: sha(code),
          tries: 0,
          expiresAt: nowSeconds() + LIMITS.verificationCodeTtlSeconds,
        });
        await deps.codes.send(kind, normalised, code);
      }
      return request;
    },

    /** Starts a login after a code: the code is taken (one attempt per code), then a try spent. */
    async startWithCode(identity: IdentityId, request: Uint8Array, code: string, ke1: Uint8Array) {
      const digest = await deps.vault.spendCodeTry(
        identity,
        request,
        LIMITS.verificationCodeTries,
        nowSeconds(),
      );
      if (!digest || !constantTimeEqual(sha(code), digest)) throw new SwitchyardError('code_invalid');
      if (!(await deps.vault.takeCode(identity, request))) throw new SwitchyardError('code_invalid');
      return startLogin(identity, ke1);
    },

    /** Starts a login for the owner, who proves key possession instead of a code. */
    async startWithProof(identity: IdentityId, ke1: Uint8Array, proof: Proof) {
      await guards.authenticate(identity, proof, vaultSigned.open(identity, toHex(ke1)));
      return startLogin(identity, ke1);
    },

    /**
     * Finishes a login: taken first (a replay finds nothing), then KE3 checked. Right: the tries
     * are restored and the wrapped key released. Wrong, decoy, expired or replayed: one answer.
     */
    async finish(identity: IdentityId, login: Uint8Array, ke3: Uint8Array): Promise<Uint8Array> {
      const taken = await deps.vault.takeLogin(identity, login);
      const right =
        taken?.record !== undefined &&
        taken.state !== undefined &&
        taken.expiresAt >= nowSeconds() &&
        (await deps.opaque.finishLogin(taken.state, ke3));
      if (!right || !taken?.record) throw new SwitchyardError('vault_login_failed');
      if (!(await deps.vault.restore(taken.record))) throw new SwitchyardError('vault_login_failed');
      return taken.record.wrapped;
    },
  };
}

export type Vault = ReturnType<typeof createVault>;
