/**
 * Every setting of a deployment and of the local runner, once: its CDK context key, its environment
 * variable, its default, its bounds and one line of documentation. Both parsers derive from this
 * table — lib/config.ts (CDK context, validated at synth) and lambdas/runtime/env.ts (environment,
 * parsed at cold start; the local runner's `npm start` too) — so a bound or a default cannot differ
 * between them. cdk.json's `context` and the configuration tables of README.md and
 * docs/OPERATIONS.md are checked against it by test/infra/settings.test.ts.
 *
 * The wiring the stack sets on each function (table names, the bucket, the `@connections` endpoint,
 * the server key secret) is not a setting: operators don't choose it. Its variable names are in
 * `WIRING` below.
 */
import { LIMITS } from '../protocol/limits.ts';
import type { TableName } from './schema.ts';

/** A whole number in [min, max]. */
interface IntSetting {
  readonly kind: 'int';
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** Why the bound is what it is, shown when a value is refused. */
  readonly hint?: string;
}
/** One of a few words. */
interface ChoiceSetting {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}
/** On or off: `true`/`false` in CDK context, `on`/`off` in the environment. */
interface FlagSetting {
  readonly kind: 'flag';
  readonly default: boolean;
}
/** Text that must match a pattern; absent (or empty) means "not configured". */
interface TextSetting {
  readonly kind: 'text';
  readonly default?: undefined;
  readonly pattern: RegExp;
  /** What a valid value looks like, for the error message. */
  readonly expected: string;
}
/** Parsed by its own code (a list, a pair, a set of related keys); listed here for its name and doc. */
interface CustomSetting {
  readonly kind: 'custom';
  readonly default?: string | number | undefined;
}

export type SettingKind = IntSetting | ChoiceSetting | FlagSetting | TextSetting | CustomSetting;

export type Setting = SettingKind & {
  /** The CDK context key (`cdk deploy -c key=value`); absent: not a deployment setting. */
  readonly context?: string;
  /** The environment variable; absent: not read from the environment. */
  readonly env?: string;
  /** Whether `npm start` reads the variable (otherwise only the Lambda functions do). */
  readonly local?: boolean;
  /** One line for the configuration tables. */
  readonly doc: string;
};

/** A sender address SES can verify: `local@domain.tld`, no spaces. */
export const EMAIL_ADDRESS = /^[^@\s]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$/;

/** A complete Secrets Manager ARN: the name ends in the six characters Secrets Manager appends. */
export const SECRET_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/**
 * Lambda's synchronous invocation payload limit (6 MB). API Gateway hands a binary body (a Safe
 * backup is `application/octet-stream`) to Lambda base64-encoded inside the event, so a backup
 * must fit in three quarters of it, minus room for headers and request context.
 */
const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const EVENT_ENVELOPE_BYTES = 64 * 1024;
const LAMBDA_BODY_BYTES = Math.floor(((LAMBDA_SYNC_PAYLOAD_BYTES - EVENT_ENVELOPE_BYTES) * 3) / 4);
/** API Gateway HTTP API payload limit (10 MB). */
const HTTP_API_PAYLOAD_BYTES = 10 * 1000 * 1000;

/** The largest `safeMaxBackupBytes` a Lambda-backed HTTP route can actually receive. */
export const SAFE_MAX_BACKUP_BYTES_LIMIT = Math.min(
  LIMITS.httpBodyBytes,
  HTTP_API_PAYLOAD_BYTES,
  LAMBDA_BODY_BYTES,
);

/** API Gateway's default account-level throttle (per Region); higher values need a quota increase. */
const ACCOUNT_RATE_LIMIT = 10_000;
const ACCOUNT_BURST_LIMIT = 5_000;
const QUOTA_HINT = " (API Gateway's default account quota; raise the quota first to go higher)";

/** The largest `serverKeyGeneration` (a counter raised once per rotation). */
export const MAX_SERVER_KEY_GENERATION = 1_000_000;

/** A stage name: lowercase letters, digits and inner hyphens, starting with a letter. */
export const STAGE_NAME = /^[a-z](?:[a-z0-9-]{0,14}[a-z0-9])?$/;

export const SETTINGS = {
  stage: {
    kind: 'text',
    context: 'stage',
    env: 'SWITCHYARD_STAGE',
    pattern: STAGE_NAME,
    expected:
      'a short name: lowercase letters, digits and inner hyphens, starting with a letter, at most 16 (e.g. staging)',
    doc: 'another copy in the same account and Region: stacks `SwitchyardStateful-<stage>`, `SwitchyardApi-<stage>`, metrics under `Switchyard/<stage>`',
  },
  messageTtlDays: {
    kind: 'int',
    context: 'messageTtlDays',
    env: 'MESSAGE_TTL_DAYS',
    local: true,
    default: LIMITS.messageTtlDaysDefault,
    min: 1,
    max: 365,
    doc: 'undelivered messages expire after this many days',
  },
  safeMaxBackupBytes: {
    kind: 'int',
    context: 'safeMaxBackupBytes',
    env: 'SAFE_MAX_BACKUP_BYTES',
    local: true,
    default: LIMITS.safeMaxBackupBytesDefault,
    min: 1,
    max: SAFE_MAX_BACKUP_BYTES_LIMIT,
    hint: ' (a backup travels base64-encoded in a Lambda event, which is capped at 6 MB)',
    doc: 'largest Safe backup (bytes; at most ~4.45 MiB, a Lambda event limit)',
  },
  safeRetentionDays: {
    kind: 'int',
    context: 'safeRetentionDays',
    env: 'SAFE_RETENTION_DAYS',
    local: true,
    default: LIMITS.safeRetentionDaysDefault,
    min: 1,
    max: 3650,
    doc: 'a backup expires this many days after its last upload',
  },
  mediaMaxBlobBytes: {
    kind: 'int',
    context: 'mediaMaxBlobBytes',
    env: 'MEDIA_MAX_BLOB_BYTES',
    local: true,
    default: LIMITS.mediaMaxBlobBytesDefault,
    min: 1,
    max: LIMITS.mediaMaxBlobBytesLimit,
    hint: ' (S3 refuses a POST upload over 5 GB)',
    doc: 'largest media blob one upload may declare (bytes, encrypted; S3 enforces it)',
  },
  mediaTtlDays: {
    kind: 'int',
    context: 'mediaTtlDays',
    env: 'MEDIA_TTL_DAYS',
    local: true,
    default: LIMITS.mediaTtlDaysDefault,
    min: 1,
    max: 365,
    doc: 'a media blob is deleted this many days after its upload, downloaded or not',
  },
  mediaQuotaBytes: {
    kind: 'int',
    context: 'mediaQuotaBytes',
    env: 'MEDIA_QUOTA_BYTES',
    local: true,
    default: LIMITS.mediaQuotaBytesDefault,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'media bytes one identity may have in flight (its own uploads not yet deleted)',
  },
  registrationPolicy: {
    kind: 'choice',
    context: 'registrationPolicy',
    env: 'REGISTRATION_POLICY',
    local: true,
    default: 'open',
    choices: ['open', 'invite'],
    doc: 'directory: `open` (each registration pays proof of work) or `invite` (registration needs an operator invite)',
  },
  verificationEmailFrom: {
    kind: 'text',
    context: 'verificationEmailFrom',
    env: 'VERIFICATION_EMAIL_FROM',
    pattern: EMAIL_ADDRESS,
    expected: 'an e-mail address verified in Amazon SES (e.g. codes@example.org)',
    doc: 'SES sender of e-mail verification codes; absent, e-mail addresses cannot be linked',
  },
  verificationSms: {
    kind: 'flag',
    context: 'verificationSms',
    env: 'VERIFICATION_SMS',
    default: false,
    doc: 'SMS verification codes through Amazon SNS; off, phone numbers cannot be linked',
  },
  safeBasicAuthSecretArn: {
    kind: 'text',
    context: 'safeBasicAuthSecretArn',
    env: 'SAFE_BASIC_AUTH_SECRET_ARN',
    pattern: SECRET_ARN,
    expected:
      'the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)',
    doc: 'complete ARN of a secret `{"username","password"}`: HTTP Basic auth on the Safe',
  },
  serverKeyGeneration: {
    kind: 'int',
    context: 'serverKeyGeneration',
    env: 'SERVER_KEY_GENERATION',
    default: 1,
    min: 1,
    max: MAX_SERVER_KEY_GENERATION,
    doc: 'raise by one after putting a new server key into the secret (key rotation)',
  },
  logRetentionDays: {
    kind: 'int',
    context: 'logRetentionDays',
    default: 30,
    min: 1,
    max: 3653,
    doc: "retention of the functions' log groups (a CloudWatch Logs retention period)",
  },
  httpRateLimit: {
    kind: 'int',
    context: 'httpRateLimit',
    default: 50,
    min: 1,
    max: ACCOUNT_RATE_LIMIT,
    hint: QUOTA_HINT,
    doc: 'HTTP API stage throttling: steady requests per second',
  },
  httpBurstLimit: {
    kind: 'int',
    context: 'httpBurstLimit',
    default: 100,
    min: 1,
    max: ACCOUNT_BURST_LIMIT,
    hint: QUOTA_HINT,
    doc: 'HTTP API stage throttling: burst',
  },
  wsRateLimit: {
    kind: 'int',
    context: 'wsRateLimit',
    default: 500,
    min: 1,
    max: ACCOUNT_RATE_LIMIT,
    hint: QUOTA_HINT,
    doc: 'WebSocket stage throttling: steady messages per second',
  },
  wsBurstLimit: {
    kind: 'int',
    context: 'wsBurstLimit',
    default: 1_000,
    min: 1,
    max: ACCOUNT_BURST_LIMIT,
    hint: QUOTA_HINT,
    doc: 'WebSocket stage throttling: burst',
  },
  customerManagedKey: {
    kind: 'flag',
    context: 'customerManagedKey',
    default: false,
    doc: 'encrypt tables, Safe bucket, server key secret and function logs with a KMS key the stack creates',
  },
  alarmEmail: {
    kind: 'text',
    context: 'alarmEmail',
    pattern: EMAIL_ADDRESS,
    expected: 'an e-mail address (e.g. ops@example.org)',
    doc: 'an address subscribed to the alarm topic (it must confirm the subscription)',
  },
  webOrigins: {
    kind: 'custom',
    context: 'webOrigins',
    doc: 'origins whose pages may call the HTTP API and the media bucket from a browser (CORS), e.g. the browser client',
  },
  httpDomainName: {
    kind: 'custom',
    context: 'httpDomainName',
    doc: 'custom domain of the HTTP API, e.g. `api.example.org`',
  },
  webSocketDomainName: {
    kind: 'custom',
    context: 'webSocketDomainName',
    doc: 'custom domain of the WebSocket API, e.g. `chat.example.org`',
  },
  certificateArn: {
    kind: 'custom',
    context: 'certificateArn',
    doc: "an ACM certificate in the deployment's Region covering both domain names",
  },
  hostedZoneId: {
    kind: 'custom',
    context: 'hostedZoneId',
    doc: 'the Route 53 zone of both names (with `hostedZoneName`): DNS-validated certificate and alias records',
  },
  hostedZoneName: {
    kind: 'custom',
    context: 'hostedZoneName',
    doc: 'the domain name of that zone (with `hostedZoneId`)',
  },
  pushDebounceSeconds: {
    kind: 'int',
    context: 'pushDebounceSeconds',
    env: 'PUSH_DEBOUNCE_SECONDS',
    local: true,
    default: LIMITS.pushDebounceSecondsDefault,
    min: 1,
    max: 3600,
    doc: 'push wake-ups: at most one per recipient this often (seconds) while messages wait',
  },
  pushVapidSubject: {
    kind: 'text',
    context: 'pushVapidSubject',
    env: 'PUSH_VAPID_SUBJECT',
    local: true,
    pattern: /^(mailto:[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}|https:\/\/[A-Za-z0-9.-]{1,253}(\/[^\s]{0,200})?)$/,
    expected: 'a mailto: address or an https: URL (e.g. mailto:ops@example.org)',
    doc: 'Web Push: the contact in every VAPID token (RFC 8292 `sub`); some push services require one',
  },
  pushFcmSecretArn: {
    kind: 'text',
    context: 'pushFcmSecretArn',
    env: 'PUSH_FCM_SECRET_ARN',
    pattern: SECRET_ARN,
    expected:
      'the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)',
    doc: 'complete ARN of a secret holding a Firebase service account key (JSON): FCM wake-ups; absent, none',
  },
  pushApnsSecretArn: {
    kind: 'text',
    context: 'pushApnsSecretArn',
    env: 'PUSH_APNS_SECRET_ARN',
    pattern: SECRET_ARN,
    expected:
      'the complete ARN of a Secrets Manager secret (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>)',
    doc: 'complete ARN of a secret `{"keyId","teamId","topic","key"[,"sandbox"]}` (APNs `.p8` key): APNs wake-ups; absent, none',
  },
  pushFcmCredentialsFile: {
    kind: 'custom',
    env: 'PUSH_FCM_CREDENTIALS_FILE',
    local: true,
    doc: 'a Firebase service account key file (JSON): FCM wake-ups; absent, none',
  },
  pushApnsCredentialsFile: {
    kind: 'custom',
    env: 'PUSH_APNS_CREDENTIALS_FILE',
    local: true,
    doc: 'a JSON file `{"keyId","teamId","topic","key"[,"sandbox"]}` (APNs `.p8` key as PEM text): APNs wake-ups; absent, none',
  },
  port: {
    kind: 'int',
    env: 'PORT',
    local: true,
    default: 8080,
    min: 0,
    max: 65535,
    doc: 'HTTP and WebSocket port on 127.0.0.1 (`0` picks a free one)',
  },
  dataDir: {
    kind: 'custom',
    env: 'DATA_DIR',
    local: true,
    default: './.data',
    doc: "DynamoDB Local's database, s3rver's objects, the server key, `runner.json`",
  },
  safeBasicAuth: {
    kind: 'custom',
    env: 'SAFE_BASIC_AUTH',
    local: true,
    doc: '`user:password` to require HTTP Basic auth on the Safe server',
  },
  wsIdleTimeoutMs: {
    kind: 'int',
    env: 'WS_IDLE_TIMEOUT_MS',
    local: true,
    default: LIMITS.wsIdleTimeoutMs,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: "API Gateway's 10-minute idle timeout",
  },
  wsMaxLifetimeMs: {
    kind: 'int',
    env: 'WS_MAX_LIFETIME_MS',
    local: true,
    default: LIMITS.wsMaxLifetimeMs,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    doc: "API Gateway's 2-hour connection lifetime",
  },
  sweepIntervalMs: {
    kind: 'int',
    env: 'SWEEP_INTERVAL_MS',
    local: true,
    default: 60_000,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'how often expired items and backups are deleted (`0` = never)',
  },
  scheduleIntervalMs: {
    kind: 'int',
    env: 'SCHEDULE_INTERVAL_MS',
    local: true,
    default: 60_000,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: 'how often scheduled functions run (the login-deadline reaper; `0` = never)',
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** Environment variables the stack sets on each function from its resources (not settings). */
export const WIRING = {
  tables: {
    identities: 'TABLE_IDENTITIES',
    mailbox: 'TABLE_MAILBOX',
    connections: 'TABLE_CONNECTIONS',
    ephemeral: 'TABLE_EPHEMERAL',
    vault: 'TABLE_VAULT',
    blobs: 'TABLE_BLOBS',
  },
  safeBucket: 'SAFE_BUCKET',
  mediaBucket: 'MEDIA_BUCKET',
  managementEndpoint: 'WS_MANAGEMENT_ENDPOINT',
  /** ARN of the Secrets Manager secret holding the server's long-term key (chat handshake). */
  serverKeySecretArn: 'SERVER_KEY_SECRET_ARN',
  /** ARN of the Secrets Manager secret holding the vault's OPRF server setup (vault function only). */
  vaultSetupSecretArn: 'VAULT_SETUP_SECRET_ARN',
  /** ARN of the Secrets Manager secret holding the VAPID key pair (push functions; made on first use). */
  pushVapidSecretArn: 'PUSH_VAPID_SECRET_ARN',
} as const;

/** Every environment variable a function reads: the stack's wiring and the settings (contract/settings.ts). */
export const ENV = {
  ...WIRING,
  messageTtlDays: SETTINGS.messageTtlDays.env,
  safeMaxBackupBytes: SETTINGS.safeMaxBackupBytes.env,
  safeRetentionDays: SETTINGS.safeRetentionDays.env,
  mediaMaxBlobBytes: SETTINGS.mediaMaxBlobBytes.env,
  mediaTtlDays: SETTINGS.mediaTtlDays.env,
  mediaQuotaBytes: SETTINGS.mediaQuotaBytes.env,
  registrationPolicy: SETTINGS.registrationPolicy.env,
  safeBasicAuthSecretArn: SETTINGS.safeBasicAuthSecretArn.env,
  serverKeyGeneration: SETTINGS.serverKeyGeneration.env,
  verificationEmailFrom: SETTINGS.verificationEmailFrom.env,
  verificationSms: SETTINGS.verificationSms.env,
  stage: SETTINGS.stage.env,
  pushDebounceSeconds: SETTINGS.pushDebounceSeconds.env,
  pushVapidSubject: SETTINGS.pushVapidSubject.env,
  pushFcmSecretArn: SETTINGS.pushFcmSecretArn.env,
  pushApnsSecretArn: SETTINGS.pushApnsSecretArn.env,
} as const satisfies { tables: Record<TableName, string> } & Record<string, unknown>;

/** Why a raw value is not a valid setting; each parser words it for its own source. */
export type Problem =
  | { readonly kind: 'notWhole' }
  | { readonly kind: 'range'; readonly min: number; readonly max: number; readonly hint: string }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'flag'; readonly words: readonly [string, string] }
  | { readonly kind: 'text'; readonly expected: string };

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: Problem };

/** Absent, null and empty (after trimming) all mean "not set". */
export function isUnset(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/**
 * Parses one raw value (a JSON value from CDK context, or an environment string) for a setting of a
 * kind other than `custom`; an unset value takes the default (undefined for text settings). In CDK
 * context an empty string is a value (and wrong) except for text settings, where it means "off".
 */
export function parseSetting(
  setting: IntSetting | ChoiceSetting | FlagSetting | TextSetting,
  raw: unknown,
  source: 'context' | 'env',
): Parsed<number | string | boolean | undefined> {
  const unset =
    source === 'env' || setting.kind === 'text' ? isUnset(raw) : raw === undefined || raw === null;
  if (unset) return { ok: true, value: setting.default };
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  switch (setting.kind) {
    case 'int': {
      // CDK context may hold a JSON number or, from `-c key=7`, a decimal string; the environment a string.
      const value =
        text !== undefined && /^[0-9]+$/.test(text) ? Number(text) : source === 'context' ? raw : Number.NaN;
      if (typeof value !== 'number' || !Number.isSafeInteger(value))
        return { ok: false, problem: { kind: 'notWhole' } };
      if (value < setting.min || value > setting.max)
        return {
          ok: false,
          problem: { kind: 'range', min: setting.min, max: setting.max, hint: setting.hint ?? '' },
        };
      return { ok: true, value };
    }
    case 'choice':
      return text !== undefined && setting.choices.includes(text)
        ? { ok: true, value: text }
        : { ok: false, problem: { kind: 'choice', choices: setting.choices } };
    case 'flag': {
      const [on, off] = source === 'context' ? (['true', 'false'] as const) : (['on', 'off'] as const);
      if (raw === true && source === 'context') return { ok: true, value: true };
      if (raw === false && source === 'context') return { ok: true, value: false };
      if (text === on) return { ok: true, value: true };
      if (text === off) return { ok: true, value: false };
      return { ok: false, problem: { kind: 'flag', words: [on, off] } };
    }
    case 'text':
      return text !== undefined && setting.pattern.test(text)
        ? { ok: true, value: text }
        : { ok: false, problem: { kind: 'text', expected: setting.expected } };
  }
}
