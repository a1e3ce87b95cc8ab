/** The client side of the chat handshake: hello against the pinned server key, then login. */
import { b64, COOKIE_BYTES, fromB64, NONCE_BYTES, openFrame, sessionKey } from '../../protocol/chat.ts';
import { generateKeyPair, type KeyPair, randomBytes } from '../../protocol/crypto.ts';
import { openServerHello, sealLogin, serverTempPublicOf } from '../../protocol/handshake.ts';
import type { FrameChannel } from './frames.ts';
import { ChatError } from './types.ts';

export interface HandshakeOptions {
  /** The pinned server key(s): either one may answer. */
  readonly serverPublicKey: Uint8Array | readonly Uint8Array[];
  readonly identity: string;
  readonly keys: KeyPair;
}

/** Runs hello and login on `channel`'s socket; resolves with the session key once the login is acked. */
export async function clientHandshake(channel: FrameChannel, options: HandshakeOptions): Promise<Uint8Array> {
  const temporary = generateKeyPair();
  const clientCookie = randomBytes(COOKIE_BYTES);
  channel.raw({ action: 'hello', key: b64(temporary.publicKey), cookie: b64(clientCookie) });
  const hello = await channel.next(['hello', 'error']);
  if (hello.action === 'error') throw new ChatError(String(hello.fields.code));
  // Only the holder of a pinned server key can make this box; the vouch names the key that did.
  const opened = openServerHello(
    fromB64(hello.fields.box),
    fromB64(hello.fields.nonce, NONCE_BYTES),
    [options.serverPublicKey].flat(),
    temporary.secretKey,
  );
  if (!opened) throw new ChatError('server_key_mismatch', 'The server did not prove a pinned server key.');
  const serverTempPublic = serverTempPublicOf(opened.content, clientCookie);
  if (!serverTempPublic) throw new ChatError('server_key_mismatch', 'The server did not echo our cookie.');
  const serverCookie = fromB64(hello.fields.cookie, COOKIE_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const box = sealLogin(
    {
      identity: options.identity,
      identitySecret: options.keys.secretKey,
      serverPublicKey: opened.serverPublicKey,
      serverTempPublic,
      serverCookie,
      temporary,
    },
    nonce,
  );
  channel.raw({ action: 'login', nonce: b64(nonce), box: b64(box) });
  const key = sessionKey(serverTempPublic, temporary.secretKey);
  const ack = await channel.next(['loginAck', 'error']);
  if (ack.action === 'error') throw new ChatError(String(ack.fields.code), 'The server refused the login.');
  openFrame(ack.fields, key);
  return key;
}
