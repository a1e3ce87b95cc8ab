/**
 * The vault's OPAQUE (docs/PROTOCOL.md, "OPAQUE configuration") cross-checked against a second
 * implementation. RFC 9807's own test vectors (Appendix C) cannot be replayed through
 * `@serenity-kit/opaque`: they use the Identity key-stretching function and the context
 * "OPAQUE-POC" with fixed blinds, nonces and key shares, while the library fixes Argon2id, its own
 * context, and draws all randomness inside the WebAssembly with no way to inject it. What does apply:
 *
 * 1. @noble/curves' ristretto255 OPRF reproduces RFC 9497's test vector (Appendix A.1.1, OPRF mode,
 *    vector 1), so it is a conforming second implementation.
 * 2. With it, the OPRF part of the library's messages is recomputed independently from the server
 *    setup, as RFC 9807 §3.2.1 derives it: seed = HKDF-Expand-SHA-512(oprf_seed, credential_identifier
 *    ‖ "OprfKey", 32), (oprf_key, _) = DeriveKeyPair(seed, "OPAQUE-DeriveKeyPair"), and the evaluated
 *    element of a registration response and of a KE2 is oprf_key · blinded element. This checks the
 *    setup's layout (oprf_seed first), the credential identifier's encoding ("v:" ‖ hex as UTF-8,
 *    protocol/vault.ts) and the key derivation, and that the server public key in the response is the
 *    setup's.
 */
import { ristretto255, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { expand } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import * as opaque from '@serenity-kit/opaque';
import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../protocol/bytes.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { vaultCredentialIdentifier } from '../../protocol/vault.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
const bytes = (b64url: string) => new Uint8Array(Buffer.from(b64url, 'base64url'));
const { oprf } = ristretto255_oprf;

/** RFC 9807 §3.2.1: the OPRF key for a credential identifier, from the setup's 64-byte oprf_seed. */
function oprfKey(oprfSeed: Uint8Array, credentialIdentifier: string): Uint8Array {
  const seed = expand(sha512, oprfSeed, concatBytes(utf8(credentialIdentifier), utf8('OprfKey')), 32);
  return oprf.deriveKeyPair(seed, utf8('OPAQUE-DeriveKeyPair')).secretKey;
}

beforeAll(async () => {
  await opaque.ready;
});

describe('vault OPAQUE cross-check', () => {
  it('has a second OPRF implementation that reproduces RFC 9497 (ristretto255-SHA512, OPRF mode)', () => {
    const key = oprf.deriveKeyPair(new Uint8Array(32).fill(0xa3), utf8('test key'));
    expect(toHex(key.secretKey)).toBe('5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e');
    const blind = fromHex('64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706')!;
    const blinded = fromHex('609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c')!;
    const evaluated = oprf.blindEvaluate(key.secretKey, blinded);
    expect(toHex(evaluated)).toBe('7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e');
    expect(toHex(oprf.finalize(new Uint8Array([0]), blind, evaluated))).toBe(
      '527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6',
    );
  });

  it('computes the same OPRF evaluations as the library, at register and in KE2, for a vault credential', () => {
    const serverSetup = opaque.server.createSetup();
    const setup = bytes(serverSetup);
    expect(setup).toHaveLength(128);
    const oprfSeed = setup.subarray(0, 64);
    const serverPublicKey = bytes(opaque.server.getPublicKey(serverSetup));
    // The server's long-term key pair follows the seed: its public key is the scalar's multiple of the base.
    expect(
      toHex(
        ristretto255.Point.BASE.multiply(ristretto255.Point.Fn.fromBytes(setup.subarray(64, 96))).toBytes(),
      ),
    ).toBe(toHex(serverPublicKey));

    const credentialIdentifier = vaultCredentialIdentifier.record(randomBytes(16));
    const key = oprfKey(oprfSeed, credentialIdentifier);
    const registration = opaque.client.startRegistration({ password: '1234' });
    const request = bytes(registration.registrationRequest);
    const response = bytes(
      opaque.server.createRegistrationResponse({
        serverSetup,
        userIdentifier: credentialIdentifier,
        registrationRequest: registration.registrationRequest,
      }).registrationResponse,
    );
    expect(toHex(response.subarray(0, 32))).toBe(toHex(oprf.blindEvaluate(key, request)));
    expect(toHex(response.subarray(32))).toBe(toHex(serverPublicKey));

    const { registrationRecord } = opaque.client.finishRegistration({
      clientRegistrationState: registration.clientRegistrationState,
      registrationResponse: toBase64url(response),
      password: '1234',
      keyStretching: { 'argon2id-custom': { iterations: 1, memory: 8, parallelism: 1 } },
    });
    const login = opaque.client.startLogin({ password: '1234' });
    const ke2 = bytes(
      opaque.server.startLogin({
        serverSetup,
        userIdentifier: credentialIdentifier,
        registrationRecord,
        startLoginRequest: login.startLoginRequest,
      }).loginResponse,
    );
    const ke1 = bytes(login.startLoginRequest);
    expect(toHex(ke2.subarray(0, 32))).toBe(toHex(oprf.blindEvaluate(key, ke1.subarray(0, 32))));
    // Another credential (another registration, a decoy) is another OPRF key.
    expect(toHex(ke2.subarray(0, 32))).not.toBe(
      toHex(
        oprf.blindEvaluate(
          oprfKey(oprfSeed, vaultCredentialIdentifier.decoy('ECHOECHO')),
          ke1.subarray(0, 32),
        ),
      ),
    );
  });
});

function toBase64url(value: Uint8Array): string {
  return Buffer.from(value).toString('base64url');
}
