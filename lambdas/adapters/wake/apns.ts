/**
 * Apple Push Notification service, token-based (a `.p8` signing key), over HTTP/2 as APNs
 * requires: a background push (`content-available`, no alert, priority 5) that wakes the app to
 * fetch. One HTTP/2 session per container, opened on first use and reopened when it closes.
 *
 *   :method POST  :path /3/device/<device token>
 *   authorization: bearer <ES256 JWT {iss: team id, iat}, header {kid: key id}>
 *   apns-push-type: background · apns-priority: 5 · apns-topic: <bundle id> · apns-collapse-id: wake
 *   apns-expiration: <now + a day>
 *   {"aps":{"content-available":1}}
 */
import { type ClientHttp2Session, connect } from 'node:http2';
import { LIMITS } from '../../../protocol/limits.ts';
import type { PushTarget } from '../../../protocol/push-targets.ts';
import type { WakeOutcome, WakeSender } from '../../domain/wakeups.ts';
import { pemKey, requireFields, reused, type SenderTiming, signJwt } from './jwt.ts';

/** What the APNs credential holds: the signing key and what it signs for. */
export interface ApnsCredentials {
  readonly keyId: string;
  readonly teamId: string;
  /** The app's bundle id (`apns-topic`). */
  readonly topic: string;
  /** The `.p8` file's PEM text. */
  readonly key: string;
  /** Apple's sandbox instead of production (development builds of the app). */
  readonly sandbox?: boolean;
}

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';
export const APNS_BODY = '{"aps":{"content-available":1}}';

export function apnsCredentials(value: unknown): ApnsCredentials {
  return requireFields(value, ['keyId', 'teamId', 'topic', 'key'], 'APNs credentials');
}

/** 410 Unregistered, 400 BadDeviceToken: gone. 200 sent; anything else failed (retried). */
export function apnsOutcome(status: number, reason: string | undefined): WakeOutcome {
  if (status === 200) return 'sent';
  if (status === 410 || reason === 'BadDeviceToken' || reason === 'Unregistered') return 'gone';
  return 'failed';
}

export interface ApnsOptions extends SenderTiming {
  readonly credentials: () => Promise<ApnsCredentials>;
  /** The origin to connect to; default Apple's (production or sandbox per the credentials). */
  readonly origin?: string;
}

export function apnsSender(options: ApnsOptions): WakeSender & { close(): void } {
  let session: ClientHttp2Session | undefined;
  // Apple refuses provider tokens refreshed more often than every 20 minutes and older than 60.
  const providerToken = reused(40 * 60 * 1000, options.now, async () => {
    const credentials = await options.credentials();
    return signJwt(
      'ES256',
      pemKey(credentials.key),
      { iss: credentials.teamId, iat: Math.floor(options.now() / 1000) },
      { kid: credentials.keyId },
    );
  });
  const sessionFor = (origin: string) => {
    if (!session || session.closed || session.destroyed) {
      session = connect(origin);
      session.on('error', () => session?.destroy());
      session.unref();
    }
    return session;
  };
  return {
    async send(target: PushTarget) {
      if (!('token' in target)) return 'failed';
      const credentials = await options.credentials();
      const token = await providerToken();
      const origin = options.origin ?? (credentials.sandbox ? APNS_SANDBOX : APNS_PRODUCTION);
      const request = sessionFor(origin).request({
        ':method': 'POST',
        ':path': `/3/device/${target.token}`,
        authorization: `bearer ${token}`,
        'apns-push-type': 'background',
        'apns-priority': '5',
        'apns-topic': credentials.topic,
        'apns-collapse-id': 'wake',
        'apns-expiration': String(Math.floor(options.now() / 1000) + LIMITS.pushWakeTtlSeconds),
        'content-type': 'application/json',
      });
      request.setTimeout(options.timeoutMs ?? 5000, () => request.close());
      return new Promise<WakeOutcome>((resolve) => {
        let status = 0;
        const chunks: Buffer[] = [];
        request.on('response', (headers) => {
          status = Number(headers[':status'] ?? 0);
        });
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          let reason: string | undefined;
          try {
            reason = (JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { reason?: string })
              .reason;
          } catch {
            reason = undefined;
          }
          resolve(apnsOutcome(status, reason));
        });
        request.on('error', () => resolve('failed'));
        request.on('close', () => resolve(status ? apnsOutcome(status, undefined) : 'failed'));
        request.end(APNS_BODY);
      });
    },
    close() {
      session?.close();
    },
  };
}
