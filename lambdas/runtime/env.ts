/**
 * Environment → typed configuration, parsed once at cold start. A missing or malformed variable
 * fails loudly with the variable's name (never its value). The CDK API stack sets exactly these
 * variables; the local runner builds the same RuntimeConfig directly.
 */

import type { FunctionSpec } from '../../contract/manifest.ts';
import type { TableName } from '../../contract/schema.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { VerificationCodesConfig } from '../adapters/codes.ts';
import type { RegistrationPolicy } from '../domain/directory.ts';

export const REGISTRATION_POLICIES: readonly RegistrationPolicy[] = ['open', 'invite'];

/** A sender address SES can verify: `local@domain.tld`, no spaces. */
export const SENDER_ADDRESS = /^[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/;

/**
 * The Safe's optional HTTP Basic auth: a digest computed from credentials the runner was given
 * (locally), or a Secrets Manager secret read on first use (AWS). Absent: the Safe is open.
 */
export type SafeAuthConfig =
  | { readonly kind: 'digest'; readonly digest: Uint8Array }
  | { readonly kind: 'secret'; readonly secretArn: string };

export const ENV = {
  tables: {
    identities: 'TABLE_IDENTITIES',
    mailbox: 'TABLE_MAILBOX',
    connections: 'TABLE_CONNECTIONS',
    ephemeral: 'TABLE_EPHEMERAL',
  },
  safeBucket: 'SAFE_BUCKET',
  registrationPolicy: 'REGISTRATION_POLICY',
  managementEndpoint: 'WS_MANAGEMENT_ENDPOINT',
  messageTtlDays: 'MESSAGE_TTL_DAYS',
  safeMaxBackupBytes: 'SAFE_MAX_BACKUP_BYTES',
  safeRetentionDays: 'SAFE_RETENTION_DAYS',
  /** ARN of the Secrets Manager secret holding the Safe's Basic auth credentials; unset = open Safe. */
  safeBasicAuthSecretArn: 'SAFE_BASIC_AUTH_SECRET_ARN',
  /** ARN of the Secrets Manager secret holding the server's long-term key (chat handshake). */
  serverKeySecretArn: 'SERVER_KEY_SECRET_ARN',
  /**
   * Which value of the server key secret the deployment means; raised after a rotation so every
   * function that holds the key starts afresh and reads the new value (docs/OPERATIONS.md).
   */
  serverKeyGeneration: 'SERVER_KEY_GENERATION',
  /** Directory: an SES-verified sender address; set, e-mail verification codes are on. */
  verificationEmailFrom: 'VERIFICATION_EMAIL_FROM',
  /** Directory: `on` sends SMS verification codes through SNS; `off` (default) does not. */
  verificationSms: 'VERIFICATION_SMS',
} as const satisfies { tables: Record<TableName, string> } & Record<string, unknown>;

/** The largest `serverKeyGeneration` (a counter raised once per rotation). */
export const MAX_SERVER_KEY_GENERATION = 1_000_000;

export interface RuntimeConfig {
  /** Physical table names, present for the tables this function may use. */
  readonly tables: Partial<Record<TableName, string>>;
  readonly safeBucket?: string;
  /** `https://{api}.execute-api.{region}.amazonaws.com/{stage}` or the local runner's equivalent. */
  readonly managementEndpoint?: string;
  readonly messageTtlDays: number;
  /** The server's long-term secret key: given directly (local runner) or read from Secrets Manager. */
  readonly serverKey?:
    | { readonly kind: 'key'; readonly secretKey: Uint8Array }
    | { readonly kind: 'secret'; readonly secretArn: string; readonly generation: number };
  /** Directory: `open` registration (rate-limited) or `invite` (operator-issued invites only). */
  readonly registrationPolicy: RegistrationPolicy;
  /** Directory: code delivery on AWS (SES e-mail, SNS SMS); absent, linking answers not_supported. */
  readonly verificationCodes?: VerificationCodesConfig;
  readonly safe: {
    readonly maxBackupBytes: number;
    readonly retentionDays: number;
    readonly basicAuth?: SafeAuthConfig;
  };
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

/** Reads a positive integer in [min, max], or the default when the variable is unset. */
export function positiveInt(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^[0-9]+$/.test(raw.trim())) throw new ConfigError(name, 'must be a whole number');
  const value = Number(raw.trim());
  if (value < 1 || value > max) throw new ConfigError(name, `must be between 1 and ${max}`);
  return value;
}

/** Parses what `spec` needs from the environment; throws ConfigError on the first problem. */
export function configFromEnv(env: Env, spec: FunctionSpec): RuntimeConfig {
  const settings = deploymentSettings(env);
  const tables: Partial<Record<TableName, string>> = {};
  for (const table of Object.keys(spec.tables) as TableName[]) {
    tables[table] = required(env, ENV.tables[table]);
  }
  return {
    tables,
    ...(spec.safeBucket.length > 0 ? { safeBucket: required(env, ENV.safeBucket) } : {}),
    ...(spec.manageConnections ? { managementEndpoint: required(env, ENV.managementEndpoint) } : {}),
    ...(spec.readsServerKey
      ? {
          serverKey: {
            kind: 'secret',
            secretArn: secretArn(env, ENV.serverKeySecretArn),
            generation: positiveInt(env, ENV.serverKeyGeneration, 1, MAX_SERVER_KEY_GENERATION),
          } as const,
        }
      : {}),
    ...(spec.sendsVerificationCodes ? verificationCodesFromEnv(env) : {}),
    ...settings,
    safe: { ...settings.safe, ...(spec.readsSafeAuthSecret ? safeAuthFromEnv(env) : {}) },
  };
}

/**
 * The settings every function and the local runner read alike: message TTL, registration policy
 * and the Safe's size and retention, each with its default from protocol/limits.ts.
 */
export function deploymentSettings(env: Env) {
  return {
    messageTtlDays: positiveInt(env, ENV.messageTtlDays, LIMITS.messageTtlDaysDefault, 365),
    registrationPolicy: registrationPolicy(env),
    safe: {
      maxBackupBytes: positiveInt(
        env,
        ENV.safeMaxBackupBytes,
        LIMITS.safeMaxBackupBytesDefault,
        LIMITS.httpBodyBytes,
      ),
      retentionDays: positiveInt(env, ENV.safeRetentionDays, LIMITS.safeRetentionDaysDefault, 3650),
    },
  };
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

function secretArn(env: Env, name: string): string {
  const raw = required(env, name);
  if (!SECRET_ARN.test(raw)) throw new ConfigError(name, 'must be a Secrets Manager secret ARN');
  return raw;
}

/** `SAFE_BASIC_AUTH_SECRET_ARN`, when set, must be a Secrets Manager secret ARN. */
function safeAuthFromEnv(env: Env): { basicAuth?: SafeAuthConfig } {
  const raw = env[ENV.safeBasicAuthSecretArn]?.trim();
  if (!raw) return {};
  if (!SECRET_ARN.test(raw))
    throw new ConfigError(ENV.safeBasicAuthSecretArn, 'must be a Secrets Manager secret ARN');
  return { basicAuth: { kind: 'secret', secretArn: raw } };
}

/** `VERIFICATION_EMAIL_FROM` (a sender address) and `VERIFICATION_SMS` (`on` | `off`); neither: codes off. */
function verificationCodesFromEnv(env: Env): { verificationCodes?: VerificationCodesConfig } {
  const from = env[ENV.verificationEmailFrom]?.trim();
  if (from && !SENDER_ADDRESS.test(from))
    throw new ConfigError(ENV.verificationEmailFrom, 'must be an e-mail address (an SES-verified sender)');
  const sms = env[ENV.verificationSms]?.trim() || 'off';
  if (sms !== 'on' && sms !== 'off') throw new ConfigError(ENV.verificationSms, 'must be "on" or "off"');
  if (!from && sms === 'off') return {};
  return { verificationCodes: { ...(from ? { emailFrom: from } : {}), sms: sms === 'on' } };
}

/** `REGISTRATION_POLICY`: `open` (default) or `invite`. */
export function registrationPolicy(env: Env): RegistrationPolicy {
  const raw = env[ENV.registrationPolicy]?.trim() || 'open';
  if (!REGISTRATION_POLICIES.includes(raw as RegistrationPolicy)) {
    throw new ConfigError(ENV.registrationPolicy, 'must be "open" or "invite"');
  }
  return raw as RegistrationPolicy;
}
