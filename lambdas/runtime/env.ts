/**
 * Environment → typed configuration, parsed once at cold start. A missing or malformed variable
 * fails loudly with the variable's name (never its value). The CDK API stack sets exactly these
 * variables; the local runner builds the same RuntimeConfig directly.
 */

import type { FunctionSpec } from '../../contract/manifest.ts';
import type { TableName } from '../../contract/schema.ts';
import {
  ENV,
  type Problem,
  parseSetting,
  SETTINGS,
  type Setting,
  type SettingName,
} from '../../contract/settings.ts';
import type { VerificationCodesConfig } from '../adapters/codes.ts';
import type { RegistrationPolicy } from '../domain/directory.ts';

/**
 * The Safe's optional HTTP Basic auth: a digest computed from credentials the runner was given
 * (locally), or a Secrets Manager secret read on first use (AWS). Absent: the Safe is open.
 */
export type SafeAuthConfig =
  | { readonly kind: 'digest'; readonly digest: Uint8Array }
  | { readonly kind: 'secret'; readonly secretArn: string };

export { ENV };

export interface RuntimeConfig {
  /** Physical table names, present for the tables this function may use. */
  readonly tables: Partial<Record<TableName, string>>;
  readonly safeBucket?: string;
  /** The media bucket's physical name, for functions that presign blob URLs. */
  readonly mediaBucket?: string;
  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}` or the local runner's equivalent. */
  readonly managementEndpoint?: string;
  readonly messageTtlDays: number;
  /** The server's long-term secret key: given directly (local runner) or read from Secrets Manager. */
  readonly serverKey?:
    | { readonly kind: 'key'; readonly secretKey: Uint8Array }
    | { readonly kind: 'secret'; readonly secretArn: string; readonly generation: number };
  /**
   * The vault's OPRF server setup: given directly (the local runner made it under its data folder)
   * or in a Secrets Manager secret that the function fills on first use.
   */
  readonly vaultSetup?:
    | { readonly kind: 'setup'; readonly setup: string }
    | { readonly kind: 'secret'; readonly secretArn: string };
  /** Directory: `open` registration (rate-limited) or `invite` (operator-issued invites only). */
  readonly registrationPolicy: RegistrationPolicy;
  /** Directory: code delivery on AWS (SES e-mail, SNS SMS); absent, linking answers not_supported. */
  readonly verificationCodes?: VerificationCodesConfig;
  readonly safe: {
    readonly maxBackupBytes: number;
    readonly retentionDays: number;
    readonly basicAuth?: SafeAuthConfig;
  };
  /** Push wake-ups (functions with a manifest `pushCredentials`, and the local runner). */
  readonly push?: PushConfig;
  /** Media blobs: the largest blob, the days a blob lives, the bytes one identity may have in flight. */
  readonly media: {
    readonly maxBlobBytes: number;
    readonly ttlDays: number;
    readonly quotaBytes: number;
  };
}

/** A credential given directly (the local runner read it from a file) or kept in Secrets Manager. */
export type CredentialSource =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'secret'; readonly secretArn: string };

export interface PushConfig {
  /** At most one wake-up per recipient this often (seconds). */
  readonly debounceSeconds: number;
  /** The VAPID key pair ({publicKey, privateKey} base64url); the secret is filled on first use. */
  readonly vapid: CredentialSource;
  /** RFC 8292 `sub` of the VAPID tokens. */
  readonly vapidSubject?: string;
  /** A Firebase service account key; absent, no FCM wake-ups. */
  readonly fcm?: CredentialSource;
  /** APNs credentials {keyId, teamId, topic, key, sandbox?}; absent, no APNs wake-ups. */
  readonly apns?: CredentialSource;
  /**
   * Push endpoints on loopback hosts, `http:` too (the local runner, whose tests run a push service);
   * otherwise only public addresses are registered and reached (protocol/addresses.ts).
   */
  readonly allowLoopback?: boolean;
  /** Other origins for FCM and APNs (stand-ins in tests); default Google's and Apple's. */
  readonly providerOrigins?: { readonly fcm?: string; readonly apns?: string };
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(name, 'is required');
  return value.trim();
}

/** The words of a refusal; never the value, which may be a secret. */
function describe(problem: Problem): string {
  switch (problem.kind) {
    case 'notWhole':
      return 'must be a whole number';
    case 'range':
      return `must be between ${problem.min} and ${problem.max}`;
    case 'choice':
      return `must be ${problem.choices.map((choice) => `"${choice}"`).join(' or ')}`;
    case 'flag':
      return `must be "${problem.words[0]}" or "${problem.words[1]}"`;
    case 'text':
      return `must be ${problem.expected}`;
  }
}

type Parseable = Exclude<(typeof SETTINGS)[SettingName], { kind: 'custom' }>;
type ValueOf<S> = S extends { kind: 'int' }
  ? number
  : S extends { kind: 'flag' }
    ? boolean
    : S extends { kind: 'choice' }
      ? string
      : string | undefined;

/** One setting from the environment, by its name in contract/settings.ts; throws ConfigError. */
export function envSetting<N extends SettingName>(
  env: Env,
  name: N,
): (typeof SETTINGS)[N] extends Parseable ? ValueOf<(typeof SETTINGS)[N]> : never {
  const setting: Setting = SETTINGS[name];
  if (setting.kind === 'custom' || !setting.env) throw new Error(`${name} is not read from the environment`);
  const parsed = parseSetting(setting, env[setting.env], 'env');
  if (!parsed.ok) throw new ConfigError(setting.env, describe(parsed.problem));
  return parsed.value as never;
}

/** Parses what `spec` needs from the environment; throws ConfigError on the first problem. */
export function configFromEnv(env: Env, spec: FunctionSpec): RuntimeConfig {
  const settings = deploymentSettings(env);
  const tables: Partial<Record<TableName, string>> = {};
  for (const table of Object.keys(spec.tables) as TableName[]) {
    tables[table] = required(env, ENV.tables[table]);
  }
  const basicAuthArn = spec.readsSafeAuthSecret ? envSetting(env, 'safeBasicAuthSecretArn') : undefined;
  return {
    tables,
    ...(spec.safeBucket.length > 0 ? { safeBucket: required(env, ENV.safeBucket) } : {}),
    ...((spec.mediaBucket ?? []).length > 0 ? { mediaBucket: required(env, ENV.mediaBucket) } : {}),
    ...(spec.manageConnections ? { managementEndpoint: required(env, ENV.managementEndpoint) } : {}),
    ...(spec.readsServerKey
      ? {
          serverKey: {
            kind: 'secret',
            secretArn: secretArn(env, ENV.serverKeySecretArn),
            generation: envSetting(env, 'serverKeyGeneration'),
          } as const,
        }
      : {}),
    ...(spec.sendsVerificationCodes ? verificationCodesFromEnv(env) : {}),
    ...(spec.holdsVaultSetup
      ? { vaultSetup: { kind: 'secret', secretArn: secretArn(env, ENV.vaultSetupSecretArn) } as const }
      : {}),
    ...(spec.pushCredentials ? { push: pushFromEnv(env) } : {}),
    ...settings,
    safe: {
      ...settings.safe,
      ...(basicAuthArn ? { basicAuth: { kind: 'secret', secretArn: basicAuthArn } } : {}),
    },
  };
}

/**
 * The settings every function and the local runner read alike: message TTL, registration policy,
 * the Safe's size and retention and the media blobs' size, lifetime and quota, with their defaults and bounds from contract/settings.ts.
 */
export function deploymentSettings(env: Env) {
  return {
    messageTtlDays: envSetting(env, 'messageTtlDays'),
    registrationPolicy: envSetting(env, 'registrationPolicy') as RegistrationPolicy,
    safe: {
      maxBackupBytes: envSetting(env, 'safeMaxBackupBytes'),
      retentionDays: envSetting(env, 'safeRetentionDays'),
    },
    media: {
      maxBlobBytes: envSetting(env, 'mediaMaxBlobBytes'),
      ttlDays: envSetting(env, 'mediaTtlDays'),
      quotaBytes: envSetting(env, 'mediaQuotaBytes'),
    },
  };
}

/** A secret's ARN that the stack sets (server key, vault setup): a complete Secrets Manager ARN. */
function secretArn(env: Env, name: string): string {
  const raw = required(env, name);
  const parsed = parseSetting(SETTINGS.safeBasicAuthSecretArn, raw, 'env');
  if (!parsed.ok) throw new ConfigError(name, describe(parsed.problem));
  return raw;
}

/** The push settings and credential secrets a function with `pushCredentials` reads. */
function pushFromEnv(env: Env): PushConfig {
  const fcm = envSetting(env, 'pushFcmSecretArn');
  const apns = envSetting(env, 'pushApnsSecretArn');
  const subject = envSetting(env, 'pushVapidSubject');
  // A `vapid` function learns which kinds are configured from the ARNs' presence; it is granted
  // nothing on those secrets and never reads them.
  return {
    debounceSeconds: envSetting(env, 'pushDebounceSeconds'),
    vapid: { kind: 'secret', secretArn: secretArn(env, ENV.pushVapidSecretArn) },
    ...(subject ? { vapidSubject: subject } : {}),
    ...(fcm ? { fcm: { kind: 'secret', secretArn: fcm } as const } : {}),
    ...(apns ? { apns: { kind: 'secret', secretArn: apns } as const } : {}),
  };
}

/** `VERIFICATION_EMAIL_FROM` (a sender address) and `VERIFICATION_SMS` (`on` | `off`); neither: codes off. */
function verificationCodesFromEnv(env: Env): { verificationCodes?: VerificationCodesConfig } {
  const from = envSetting(env, 'verificationEmailFrom');
  const sms = envSetting(env, 'verificationSms');
  if (!from && !sms) return {};
  return { verificationCodes: { ...(from ? { emailFrom: from } : {}), sms } };
}
