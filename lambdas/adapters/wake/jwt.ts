/**
 * The signed tokens the push providers want (RFC 7519 JWS, compact form), made with node:crypto:
 * ES256 for VAPID (RFC 8292) and APNs provider tokens, RS256 for the FCM service account's OAuth
 * grant. ES256 signatures are the raw r ‖ s form JWS requires (`ieee-p1363`), not DER.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { toB64Url } from '../../../protocol/push-targets.ts';

const text = (value: unknown) => toB64Url(new TextEncoder().encode(JSON.stringify(value)));

export function signJwt(
  alg: 'ES256' | 'RS256',
  key: KeyObject,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${text({ typ: 'JWT', alg, ...header })}.${text(claims)}`;
  const signature = sign(
    'sha256',
    Buffer.from(input),
    alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
  );
  return `${input}.${toB64Url(new Uint8Array(signature))}`;
}

/** A PEM private key (PKCS#8, as FCM service accounts and APNs `.p8` files hold them). */
export function pemKey(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' });
}

/**
 * A value made at most every `lifetimeMs` and reused until then (provider tokens: APNs refuses a new
 * one more often than every 20 minutes, Google's access tokens live an hour).
 */
export function reused<T>(lifetimeMs: number, now: () => number, make: () => Promise<T>): () => Promise<T> {
  let current: { value: Promise<T>; until: number } | undefined;
  return () => {
    if (!current || now() >= current.until) {
      const value = make();
      current = { value, until: now() + lifetimeMs };
      value.catch(() => {
        current = undefined;
      });
    }
    return current.value;
  };
}

/** Checks that a credential (parsed JSON) has these non-empty string fields; names the field, never a value. */
export function requireFields<T>(value: unknown, names: readonly string[], what: string): T {
  const fields = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  for (const name of names) {
    if (typeof fields[name] !== 'string' || fields[name] === '')
      throw new Error(`${what}: "${name}" is missing`);
  }
  return fields as T;
}

/** What every provider sender is given: when it is, and how long one request may take. */
export interface SenderTiming {
  readonly now: () => number;
  /** Default 5 s. */
  readonly timeoutMs?: number;
}
