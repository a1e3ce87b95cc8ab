/**
 * The OpaqueServer port on `@serenity-kit/opaque` (opaque-ke as WebAssembly; RFC 9807 with
 * ristretto255, 3DH and SHA-512). The library speaks unpadded base64url; the port speaks bytes.
 * The OPRF server setup comes from `setup` (the data folder locally, Secrets Manager on AWS),
 * read on first use. The credential identifier (`userIdentifier` in the library) is the one the
 * domain names (protocol/vault.ts `vaultCredentialIdentifier`): random per registration, so one
 * vault's OPRF key is never another's, nor an earlier registration's.
 */
import * as opaque from '@serenity-kit/opaque';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { OpaqueServer } from '../domain/vault.ts';

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64url'));

/** A new OPRF server setup (opaque-ke's `ServerSetup`, serialised as the library does: 171 characters). */
export async function createVaultSetup(): Promise<string> {
  await opaque.ready;
  return opaque.server.createSetup();
}

/** Whether `value` is a server setup the library accepts (its public key can be derived from it). */
export async function isVaultSetup(value: string): Promise<boolean> {
  await opaque.ready;
  try {
    opaque.server.getPublicKey(value);
    return true;
  } catch {
    return false;
  }
}

/** The library throws on a message that does not decode (not a group element, …): that is the client's. */
function decoding<T>(run: () => T): T {
  try {
    return run();
  } catch (cause) {
    throw new SwitchyardError('bad_request', { cause });
  }
}

export function serenityOpaqueServer(setup: () => Promise<string>): OpaqueServer {
  const ready = async () => {
    await opaque.ready;
    return setup();
  };
  return {
    async registrationResponse(credentialIdentifier, request) {
      const serverSetup = await ready();
      const { registrationResponse } = decoding(() =>
        opaque.server.createRegistrationResponse({
          serverSetup,
          userIdentifier: credentialIdentifier,
          registrationRequest: b64(request),
        }),
      );
      return bytes(registrationResponse);
    },

    async startLogin(credentialIdentifier, registration, ke1) {
      const serverSetup = await ready();
      // A null record gives a decoy KE2 (opaque-ke's fake credential response): same size, same look.
      const { loginResponse, serverLoginState } = decoding(() =>
        opaque.server.startLogin({
          serverSetup,
          userIdentifier: credentialIdentifier,
          registrationRecord: registration ? b64(registration) : null,
          startLoginRequest: b64(ke1),
        }),
      );
      return { ke2: bytes(loginResponse), state: bytes(serverLoginState) };
    },

    async finishLogin(state, ke3) {
      await opaque.ready;
      try {
        opaque.server.finishLogin({ serverLoginState: b64(state), finishLoginRequest: b64(ke3) });
        return true;
      } catch {
        // A wrong password (the client MAC does not verify) or a malformed KE3.
        return false;
      }
    },
  };
}
