/**
 * Firebase Cloud Messaging, HTTP v1 API: a data-only message (no notification block, so the app
 * decides what to show) with the constant wake-up payload. The access token comes from the service
 * account's OAuth 2.0 JWT bearer grant (RFC 7523) at its `token_uri`, reused for most of its hour.
 *
 *   POST {base}/v1/projects/{project_id}/messages:send
 *   Authorization: Bearer <access token>
 *   {"message":{"token":…,"data":{"wake":"1"},"android":{"priority":"high","collapse_key":"wake","ttl":"86400s"}}}
 */
import { LIMITS } from '../../../protocol/limits.ts';
import type { PushTarget } from '../../../protocol/push-targets.ts';
import type { WakeOutcome, WakeSender } from '../../domain/wakeups.ts';
import { pemKey, requireFields, reused, type SenderTiming, signJwt } from './jwt.ts';

/** The fields of a Google service account key file that the grant needs. */
export interface FcmServiceAccount {
  readonly project_id: string;
  readonly client_email: string;
  readonly private_key: string;
  readonly token_uri: string;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const FCM_BASE_URL = 'https://fcm.googleapis.com';

/** Checks a service account key file's shape; throws naming the field, never its value. */
export function fcmServiceAccount(value: unknown): FcmServiceAccount {
  return requireFields(
    value,
    ['project_id', 'client_email', 'private_key', 'token_uri'],
    'FCM service account',
  );
}

/** The data-only message of every wake-up: the same for every recipient. */
export function fcmMessage(token: string) {
  return {
    message: {
      token,
      data: { wake: '1' },
      android: { priority: 'high', collapse_key: 'wake', ttl: `${LIMITS.pushWakeTtlSeconds}s` },
    },
  };
}

/** 404 NOT_FOUND / UNREGISTERED: the token is gone. 2xx sent; anything else failed (retried). */
export async function fcmOutcome(response: Response): Promise<WakeOutcome> {
  if (response.ok) {
    await response.arrayBuffer();
    return 'sent';
  }
  const text = await response.text().catch(() => '');
  if (response.status === 404 || text.includes('"UNREGISTERED"')) return 'gone';
  return 'failed';
}

export interface FcmOptions extends SenderTiming {
  readonly account: () => Promise<FcmServiceAccount>;
  /** `https://fcm.googleapis.com` unless a stand-in (tests). */
  readonly baseUrl?: string;
}

export function fcmSender(options: FcmOptions): WakeSender {
  const timeout = () => AbortSignal.timeout(options.timeoutMs ?? 5000);
  const accessToken = reused(50 * 60 * 1000, options.now, async () => {
    const account = await options.account();
    const iat = Math.floor(options.now() / 1000);
    const assertion = signJwt('RS256', pemKey(account.private_key), {
      iss: account.client_email,
      scope: FCM_SCOPE,
      aud: account.token_uri,
      iat,
      exp: iat + 3600,
    });
    const response = await fetch(account.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion,
      }).toString(),
      signal: timeout(),
    });
    const granted = (await response.json().catch(() => ({}))) as { access_token?: unknown };
    if (!response.ok || typeof granted.access_token !== 'string') throw new Error('FCM: no access token');
    return { token: granted.access_token, project: account.project_id };
  });
  return {
    async send(target: PushTarget) {
      if (!('token' in target)) return 'failed';
      const { token, project } = await accessToken();
      const response = await fetch(
        `${options.baseUrl ?? FCM_BASE_URL}/v1/projects/${encodeURIComponent(project)}/messages:send`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(fcmMessage(target.token)),
          signal: timeout(),
        },
      );
      return fcmOutcome(response);
    },
  };
}
