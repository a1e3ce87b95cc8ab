/**
 * The client's two boxed steps of the chat handshake (the whole exchange is drawn in
 * protocol/chat.ts's header): opening the server hello against the pinned server keys, and sealing
 * the login. Byte layouts of the box contents:
 *
 *   server hello:  TSK.pub (32) ‖ CCK (16)                       boxed from SK.secret to TCK.pub
 *   login:         identity (8 ASCII) ‖ SCK (16) ‖ vouch (32)    boxed from TCK.secret to TSK.pub
 */
import { b64, COOKIE_BYTES, clientVouch, IDENTITY_BYTES, KEY_BYTES, LOGIN_PAYLOAD_BYTES } from './chat.ts';
import { boxOpenShared, boxSealShared, type KeyPair, sharedKey } from './crypto.ts';

/**
 * Opens the server hello's box with the first pinned server key that made it (during a key
 * rotation a client pins two). Undefined when none did: not a server this client was set up for.
 */
export function openServerHello(
  box: Uint8Array,
  nonce: Uint8Array,
  pinned: readonly Uint8Array[],
  temporarySecret: Uint8Array,
): { content: Uint8Array; serverPublicKey: Uint8Array } | undefined {
  for (const serverPublicKey of pinned) {
    try {
      return {
        content: boxOpenShared(box, nonce, sharedKey(serverPublicKey, temporarySecret)),
        serverPublicKey,
      };
    } catch {
      // Not this key: try the next one.
    }
  }
  return undefined;
}

/**
 * The server's temporary public key from an opened server hello, or undefined when the content is
 * not TSK.pub ‖ the cookie this client sent (a replayed or forged hello).
 */
export function serverTempPublicOf(content: Uint8Array, clientCookie: Uint8Array): Uint8Array | undefined {
  if (content.length !== KEY_BYTES + COOKIE_BYTES || b64(content.subarray(KEY_BYTES)) !== b64(clientCookie))
    return undefined;
  return content.subarray(0, KEY_BYTES);
}

/** What the login step needs from the hello exchange and the identity. */
export interface LoginStep {
  readonly identity: string;
  /** The identity's secret key: the vouch proves possession of it. */
  readonly identitySecret: Uint8Array;
  /** The pinned server key that made the server hello. */
  readonly serverPublicKey: Uint8Array;
  readonly serverTempPublic: Uint8Array;
  readonly serverCookie: Uint8Array;
  /** The client's temporary key pair of this handshake. */
  readonly temporary: KeyPair;
}

/** The login box: identity ‖ server cookie ‖ vouch, boxed from the client's to the server's temporary key. */
export function sealLogin(step: LoginStep, nonce: Uint8Array): Uint8Array {
  const vouch = clientVouch(
    step.identitySecret,
    step.serverPublicKey,
    step.serverTempPublic,
    step.serverCookie,
    step.temporary.publicKey,
  );
  const login = new Uint8Array(LOGIN_PAYLOAD_BYTES);
  login.set(new TextEncoder().encode(step.identity));
  login.set(step.serverCookie, IDENTITY_BYTES);
  login.set(vouch, IDENTITY_BYTES + COOKIE_BYTES);
  return boxSealShared(login, nonce, sharedKey(step.serverTempPublic, step.temporary.secretKey));
}
