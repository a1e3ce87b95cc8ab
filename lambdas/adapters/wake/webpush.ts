/**
 * Web Push (RFC 8030) with message encryption (RFC 8291, `aes128gcm` of RFC 8188) and VAPID
 * (RFC 8292), on node:crypto. UnifiedPush distributors speak the same protocol. Every wake-up is the
 * same plaintext (WAKE_PAYLOAD), so every body has the same length: 86 header bytes, the plaintext,
 * one delimiter byte and the 16-byte tag.
 *
 *   body = salt (16) ‖ record size (4, big-endian) ‖ key id length (1) = 65 ‖ server public key (65)
 *          ‖ AES-128-GCM(CEK, NONCE, WAKE_PAYLOAD ‖ 0x02) ‖ tag (16)
 */
import {
  createCipheriv,
  createECDH,
  createHmac,
  createPrivateKey,
  type ECDH,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { concatBytes } from '../../../protocol/bytes.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import type { PushTarget } from '../../../protocol/push-targets.ts';
import { fromB64Url, P256_POINT_BYTES, toB64Url, WAKE_PAYLOAD } from '../../../protocol/push-targets.ts';
import type { WakeOutcome, WakeSender } from '../../domain/wakeups.ts';
import { guardedPost, UnreachableEndpointError } from './guarded-post.ts';
import { signJwt } from './jwt.ts';

/** The server's VAPID key pair as it is stored: base64url, as `web-push generate-vapid-keys` prints it. */
export interface VapidKeyFile {
  /** 65 bytes, an uncompressed P-256 point. */
  readonly publicKey: string;
  /** 32 bytes, the private scalar. */
  readonly privateKey: string;
}

export interface VapidKeys {
  readonly publicKey: Uint8Array;
  readonly privateKey: KeyObject;
}

const RECORD_SIZE = 4096;
const SALT_BYTES = 16;
const VAPID_TOKEN_SECONDS = 12 * 60 * 60;

/** The private scalar's length: P-256's field size. */
const SCALAR_BYTES = 32;

/**
 * A private scalar at its full `SCALAR_BYTES`. Node's `ECDH.getPrivateKey()` drops leading zero
 * bytes (1 key in 256 comes out 31 bytes long), and an earlier version stored such keys as they
 * came: the zeros are put back in front.
 */
function fullScalar(bytes: Uint8Array): Uint8Array {
  if (bytes.length > SCALAR_BYTES) throw new Error('VAPID private key has a wrong length');
  const scalar = new Uint8Array(SCALAR_BYTES);
  scalar.set(bytes, SCALAR_BYTES - bytes.length);
  return scalar;
}

/** A stored private key (base64url, possibly short: see `fullScalar`); the public half then checks it. */
function scalarOf(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{2,64}={0,2}$/.test(value))
    throw new Error('VAPID private key is not base64url');
  return fullScalar(Buffer.from(value, 'base64url'));
}

/** The key file of a generated pair, its private scalar at its full 32 bytes. */
export function vapidKeyFileOf(ecdh: ECDH): VapidKeyFile {
  return {
    publicKey: toB64Url(new Uint8Array(ecdh.getPublicKey())),
    privateKey: toB64Url(fullScalar(ecdh.getPrivateKey())),
  };
}

/** A fresh VAPID key pair (first start, or the first use of an empty secret on AWS). */
export function createVapidKeyFile(): VapidKeyFile {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return vapidKeyFileOf(ecdh);
}

/** Parses a stored key pair; throws when it is damaged (wrong lengths, or the halves don't match). */
export function vapidKeys(file: unknown): VapidKeys {
  const fields = (typeof file === 'object' && file !== null ? file : {}) as Record<string, unknown>;
  const publicKey = fromB64Url(fields.publicKey, P256_POINT_BYTES);
  const secret = scalarOf(fields.privateKey);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(secret);
  if (!Buffer.from(ecdh.getPublicKey()).equals(Buffer.from(publicKey)))
    throw new Error('VAPID key pair does not match');
  const privateKey = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: toB64Url(secret),
      x: toB64Url(publicKey.subarray(1, 33)),
      y: toB64Url(publicKey.subarray(33, 65)),
    },
  });
  return { publicKey, privateKey };
}

const hmac = (key: Uint8Array, data: Uint8Array) =>
  new Uint8Array(createHmac('sha256', key).update(data).digest());
const utf8 = (value: string) => new TextEncoder().encode(value);

/** RFC 8291 §3.4 + RFC 8188: the encrypted body of one message to a subscription. */
export function encryptWebPush(
  plaintext: Uint8Array,
  subscription: { readonly p256dh: Uint8Array; readonly auth: Uint8Array },
): Uint8Array {
  // A fresh key pair and salt per message (RFC 8291 §3.4): no two bodies share a key.
  const ephemeral = createECDH('prime256v1');
  ephemeral.generateKeys();
  const salt = new Uint8Array(randomBytes(SALT_BYTES));
  const serverPublic = new Uint8Array(ephemeral.getPublicKey());
  const ecdhSecret = new Uint8Array(ephemeral.computeSecret(subscription.p256dh));
  const keyInfo = concatBytes(utf8('WebPush: info\0'), subscription.p256dh, serverPublic);
  const ikm = hmac(hmac(subscription.auth, ecdhSecret), concatBytes(keyInfo, Uint8Array.of(1)));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, utf8('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, utf8('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  const sealed = concatBytes(
    new Uint8Array(cipher.update(concatBytes(plaintext, Uint8Array.of(2)))),
    new Uint8Array(cipher.final()),
    new Uint8Array(cipher.getAuthTag()),
  );
  const header = new Uint8Array(SALT_BYTES + 4 + 1);
  header.set(salt);
  new DataView(header.buffer).setUint32(SALT_BYTES, RECORD_SIZE);
  header[SALT_BYTES + 4] = serverPublic.length;
  return concatBytes(header, serverPublic, sealed);
}

/** RFC 8292: `vapid t=<JWT>, k=<public key>`, the JWT's audience the push service's origin. */
export function vapidAuthorization(
  keys: VapidKeys,
  endpoint: string,
  nowSeconds: number,
  subject?: string,
): string {
  const token = signJwt('ES256', keys.privateKey, {
    aud: new URL(endpoint).origin,
    exp: nowSeconds + VAPID_TOKEN_SECONDS,
    ...(subject ? { sub: subject } : {}),
  });
  return `vapid t=${token}, k=${toB64Url(keys.publicKey)}`;
}

export interface WebPushOptions {
  readonly keys: () => Promise<VapidKeys>;
  /** RFC 8292 `sub`: a `mailto:` or `https:` contact for the push service's operator. */
  readonly subject?: string;
  readonly now: () => number;
  readonly timeoutMs?: number;
  /** Endpoints on loopback hosts may be reached (the local runner); default only public addresses. */
  readonly allowLoopback?: boolean;
}

/** Classifies a push service's answer: 2xx sent; 404 and 410 gone (RFC 8030 §7.3); the rest failed. */
export function webPushOutcome(status: number): WakeOutcome {
  if (status >= 200 && status < 300) return 'sent';
  return status === 404 || status === 410 ? 'gone' : 'failed';
}

export function webPushSender(options: WebPushOptions): WakeSender {
  const poster = guardedPost(options.allowLoopback ?? false);
  return {
    async send(target: PushTarget) {
      if (!('endpoint' in target)) return 'failed';
      const keys = await options.keys();
      const body = encryptWebPush(utf8(WAKE_PAYLOAD), target);
      let status: number;
      try {
        status = await poster.post(target.endpoint, {
          headers: {
            authorization: vapidAuthorization(
              keys,
              target.endpoint,
              Math.floor(options.now() / 1000),
              options.subject,
            ),
            'content-encoding': 'aes128gcm',
            'content-type': 'application/octet-stream',
            ttl: String(LIMITS.pushWakeTtlSeconds),
            urgency: 'high',
            // A newer wake-up replaces one still undelivered: the device gets one, not a pile.
            topic: 'wake',
          },
          body,
          timeoutMs: options.timeoutMs ?? 5000,
        });
      } catch (error) {
        // An address literal the server may not reach never will be: the target is dropped. A name
        // that resolves to no public address may change, like any other failure to connect.
        if (error instanceof UnreachableEndpointError) return 'gone';
        throw error;
      }
      return webPushOutcome(status);
    },
  };
}
