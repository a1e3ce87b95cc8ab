/**
 * The deployment's configuration: typed, validated once at synth, read from CDK context (cdk.json
 * `context`, or `cdk deploy -c key=value`). A bad value fails the synth with the key's name and what
 * to change; nothing downstream re-checks. Keys, defaults and bounds come from the one settings
 * table, contract/settings.ts, which the functions' environment parser reads too.
 */

import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import {
  isUnset,
  type Problem,
  parseSetting,
  SAFE_MAX_BACKUP_BYTES_LIMIT,
  SETTINGS,
  type Setting,
  type SettingName,
} from '../contract/settings.ts';

export { SAFE_MAX_BACKUP_BYTES_LIMIT };

/** Directory registration: `open` (each registration pays proof of work) or `invite` (operator-issued invites only). */
export type RegistrationPolicy = (typeof SETTINGS.registrationPolicy.choices)[number];

export interface SwitchyardConfig {
  /**
   * Another copy of Switchyard in the same account and Region: its stacks are named
   * `SwitchyardStateful-<stage>` and `SwitchyardApi-<stage>`, its metrics go to `Switchyard/<stage>`.
   * @default - none: stacks `SwitchyardStateful` and `SwitchyardApi`, metrics under `Switchyard`
   */
  readonly stage?: string;
  /**
   * Days an undelivered message stays in a mailbox.
   * @default 14
   */
  readonly messageTtlDays: number;
  /**
   * Largest Safe backup accepted (bytes).
   * @default 524288
   */
  readonly safeMaxBackupBytes: number;
  /**
   * Days a Safe backup lives after its last PUT.
   * @default 180
   */
  readonly safeRetentionDays: number;
  /**
   * Directory registration: `open` (each registration pays proof of work) or `invite` (operator-issued invites only).
   * @default 'open'
   */
  readonly registrationPolicy: RegistrationPolicy;
  /**
   * Largest media blob one upload may declare (bytes, encrypted); the upload policy makes S3 enforce it.
   * @default 52428800
   */
  readonly mediaMaxBlobBytes: number;
  /**
   * Days a media blob lives after its upload was granted (the media bucket's lifecycle rule).
   * @default 14
   */
  readonly mediaTtlDays: number;
  /**
   * Media bytes one identity may have in flight.
   * @default 536870912
   */
  readonly mediaQuotaBytes: number;
  /** Retention of the functions' log groups. */
  /**
   * Retention of the functions' log groups (days; a CloudWatch Logs retention period).
   * @default 30
   */
  readonly logRetentionDays: RetentionDays;
  /**
   * HTTP API: steady-state requests per second across all routes.
   * @default 50
   */
  readonly httpRateLimit: number;
  /**
   * HTTP API: burst size (requests).
   * @default 100
   */
  readonly httpBurstLimit: number;
  /**
   * WebSocket API: steady-state messages per second across all routes.
   * @default 500
   */
  readonly wsRateLimit: number;
  /**
   * WebSocket API: burst size (messages).
   * @default 1000
   */
  readonly wsBurstLimit: number;
  /**
   * Raise by one after putting a new value into the server key secret: the functions that hold the
   * key restart with the new value and the ServerPublicKey output is read again.
   * @default 1
   */
  readonly serverKeyGeneration: number;
  /**
   * Complete ARN of a Secrets Manager secret holding the Safe's HTTP Basic auth credentials, for a
   * private Safe server; absent, the Safe is open as Threema's default. The secret must be in the
   * deployment's account and encrypted with the default `aws/secretsmanager` key.
   */
  readonly safeBasicAuthSecretArn?: string;
  /**
   * Directory: the sender of e-mail verification codes, an address (or an address of a domain)
   * verified in Amazon SES in the deployment's Region. Absent: e-mail addresses can't be linked.
   */
  readonly verificationEmailFrom?: string;
  /**
   * Directory: send SMS verification codes through Amazon SNS. Off: phone numbers can't be linked.
   * @default false
   */
  readonly verificationSms: boolean;
  /**
   * Push wake-ups: at most one per recipient this often (seconds) while messages wait.
   * @default 30
   */
  readonly pushDebounceSeconds: number;
  /** Push wake-ups: the VAPID contact (`mailto:` or `https:`, RFC 8292 `sub`); absent, none. */
  readonly pushVapidSubject?: string;
  /** Complete ARN of a secret holding a Firebase service account key; absent, no FCM wake-ups. */
  readonly pushFcmSecretArn?: string;
  /** Complete ARN of a secret holding APNs credentials (docs/OPERATIONS.md); absent, no APNs wake-ups. */
  readonly pushApnsSecretArn?: string;
  /**
   * Encrypt the tables, the Safe bucket, the server key secret and the functions' log groups with a
   * customer-managed KMS key the stateful stack creates (lib/constructs/data-key.ts). Off: AWS's
   * own keys, at no cost.
   * @default false
   */
  readonly customerManagedKey: boolean;
  /**
   * An e-mail address subscribed to the alarm topic (it must confirm the subscription). Absent: the
   * alarms still exist and publish to the topic; subscribe to it however you like.
   */
  readonly alarmEmail?: string;
  /** Custom domains for the APIs; absent, clients use the execute-api URLs. */
  readonly customDomains?: CustomDomains;
  /**
   * Origins (`https://chat.example.org`) whose pages may call the HTTP API from a browser (CORS);
   * absent, none: browsers then reach it only from pages on its own origin.
   */
  readonly webOrigins?: readonly string[];
}

/**
 * Custom domain names for the two APIs. API Gateway can't serve a WebSocket API and an HTTP API on
 * one custom domain, so each gets its own name. The certificate is either an existing ACM
 * certificate in the deployment's Region covering both names, or, with a Route 53 hosted zone, one
 * the stack requests and validates by DNS. With a hosted zone the stack also adds the alias records.
 */
export interface CustomDomains {
  /** e.g. `api.example.org`: the directory and the Safe (`https://api.example.org/safe/`). */
  readonly httpDomainName: string;
  /** e.g. `chat.example.org`: the chat switch (`wss://chat.example.org`). */
  readonly webSocketDomainName: string;
  /** An ACM certificate ARN in the deployment's Region; absent, one is requested (needs the zone). */
  readonly certificateArn?: string;
  /** The Route 53 hosted zone holding both names: DNS validation and alias records. */
  readonly hostedZone?: { readonly id: string; readonly name: string };
}

export type ConfigKey = keyof SwitchyardConfig;

/** Retention periods CloudWatch Logs accepts (finite ones: logs hold no user data, but no log lives forever). */
const LOG_RETENTIONS: readonly number[] = Object.values(RetentionDays).filter(
  (value): value is number => typeof value === 'number' && value !== RetentionDays.INFINITE,
);

/** The values used when a key is absent (contract/settings.ts); cdk.json's `context` repeats them for operators to edit. */
export const CONFIG_DEFAULTS: SwitchyardConfig = {
  messageTtlDays: SETTINGS.messageTtlDays.default,
  safeMaxBackupBytes: SETTINGS.safeMaxBackupBytes.default,
  safeRetentionDays: SETTINGS.safeRetentionDays.default,
  registrationPolicy: SETTINGS.registrationPolicy.default,
  mediaMaxBlobBytes: SETTINGS.mediaMaxBlobBytes.default,
  mediaTtlDays: SETTINGS.mediaTtlDays.default,
  mediaQuotaBytes: SETTINGS.mediaQuotaBytes.default,
  logRetentionDays: SETTINGS.logRetentionDays.default as RetentionDays,
  httpRateLimit: SETTINGS.httpRateLimit.default,
  httpBurstLimit: SETTINGS.httpBurstLimit.default,
  wsRateLimit: SETTINGS.wsRateLimit.default,
  wsBurstLimit: SETTINGS.wsBurstLimit.default,
  serverKeyGeneration: SETTINGS.serverKeyGeneration.default,
  verificationSms: SETTINGS.verificationSms.default,
  pushDebounceSeconds: SETTINGS.pushDebounceSeconds.default,
  customerManagedKey: SETTINGS.customerManagedKey.default,
};

/** Context keys of the custom domains, read into `customDomains`. */
export const DOMAIN_KEYS = [
  'httpDomainName',
  'webSocketDomainName',
  'certificateArn',
  'hostedZoneId',
  'hostedZoneName',
] as const;
export type DomainKey = (typeof DOMAIN_KEYS)[number];

/** Every CDK context key: the settings that have one. */
export const CONFIG_KEYS = (Object.values(SETTINGS) as Setting[]).flatMap((setting) =>
  setting.context ? [setting.context as ConfigKey | DomainKey] : [],
);

/** A DNS name of at least two labels (`api.example.org`), lowercase after parsing. */
const DOMAIN_NAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate\/[0-9a-f-]{36}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

export class ConfigurationError extends Error {
  constructor(key: ConfigKey | DomainKey, problem: string, got: unknown) {
    super(
      `Invalid configuration: context key "${key}" ${problem} (got ${JSON.stringify(got)}). ` +
        `Fix it in cdk.json "context" or pass -c ${key}=<value>.`,
    );
    this.name = 'ConfigurationError';
  }
}

/** The words of a refusal, as the synth error says them. */
function describe(problem: Problem, setting: Setting): string {
  switch (problem.kind) {
    case 'notWhole':
    case 'range':
      return setting.kind === 'int'
        ? `must be a whole number from ${setting.min} to ${setting.max}${setting.hint ?? ''}`
        : 'must be a whole number';
    case 'choice':
      return `must be ${problem.choices.map((choice) => `"${choice}"`).join(' or ')}`;
    case 'flag':
      return `must be ${problem.words[0]} or ${problem.words[1]}`;
    case 'text':
      return `must be ${problem.expected}`;
  }
}

type Parseable = Exclude<Setting, { kind: 'custom' }>;

/** One setting from CDK context, by its name in contract/settings.ts; throws ConfigurationError. */
function contextSetting<T>(raw: Readonly<Record<string, unknown>>, name: SettingName & ConfigKey): T {
  const setting = SETTINGS[name] as Parseable;
  const parsed = parseSetting(setting, raw[name], 'context');
  if (!parsed.ok) throw new ConfigurationError(name, describe(parsed.problem, setting), raw[name]);
  return parsed.value as T;
}

/**
 * Parses raw configuration (absent keys take CONFIG_DEFAULTS) into a validated SwitchyardConfig.
 * Pure: throws ConfigurationError naming the first bad key.
 */
export function parseConfig(raw: Readonly<Record<string, unknown>>): SwitchyardConfig {
  const int = (name: SettingName & ConfigKey) => contextSetting<number>(raw, name);
  const optional = <
    K extends
      | 'stage'
      | 'safeBasicAuthSecretArn'
      | 'verificationEmailFrom'
      | 'alarmEmail'
      | 'pushVapidSubject'
      | 'pushFcmSecretArn'
      | 'pushApnsSecretArn',
  >(
    name: K,
  ) => {
    const value = contextSetting<string | undefined>(raw, name);
    return (value === undefined ? {} : { [name]: value }) as Partial<Record<K, string>>;
  };

  const logRetentionDays = int('logRetentionDays');
  if (!LOG_RETENTIONS.includes(logRetentionDays)) {
    throw new ConfigurationError(
      'logRetentionDays',
      `must be a CloudWatch Logs retention period: one of ${LOG_RETENTIONS.join(', ')}`,
      raw.logRetentionDays,
    );
  }

  return {
    ...optional('stage'),
    messageTtlDays: int('messageTtlDays'),
    safeMaxBackupBytes: int('safeMaxBackupBytes'),
    safeRetentionDays: int('safeRetentionDays'),
    registrationPolicy: contextSetting<RegistrationPolicy>(raw, 'registrationPolicy'),
    mediaMaxBlobBytes: int('mediaMaxBlobBytes'),
    mediaTtlDays: int('mediaTtlDays'),
    mediaQuotaBytes: int('mediaQuotaBytes'),
    logRetentionDays: logRetentionDays as RetentionDays,
    httpRateLimit: int('httpRateLimit'),
    httpBurstLimit: int('httpBurstLimit'),
    wsRateLimit: int('wsRateLimit'),
    wsBurstLimit: int('wsBurstLimit'),
    serverKeyGeneration: int('serverKeyGeneration'),
    ...optional('safeBasicAuthSecretArn'),
    ...optional('verificationEmailFrom'),
    verificationSms: contextSetting<boolean>(raw, 'verificationSms'),
    pushDebounceSeconds: int('pushDebounceSeconds'),
    ...optional('pushVapidSubject'),
    ...optional('pushFcmSecretArn'),
    ...optional('pushApnsSecretArn'),
    customerManagedKey: contextSetting<boolean>(raw, 'customerManagedKey'),
    ...optional('alarmEmail'),
    ...customDomains(raw),
    ...webOrigins(raw.webOrigins),
  };
}

/** A web origin: https, or http on the loopback host for development; no path. */
const WEB_ORIGIN =
  /^(https:\/\/[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?|http:\/\/(localhost|127\.0\.0\.1))(:[0-9]{1,5})?$/;
const MAX_WEB_ORIGINS = 10;

/** A JSON list, or a comma-separated string as `-c webOrigins=a,b` passes it. */
function webOrigins(raw: unknown): { webOrigins?: readonly string[] } {
  if (absent(raw)) return {};
  const list = typeof raw === 'string' ? raw.split(',') : raw;
  const origins = Array.isArray(list)
    ? list.map((origin) => (typeof origin === 'string' ? origin.trim().toLowerCase().replace(/\/$/, '') : ''))
    : [];
  if (origins.length === 0 || origins.length > MAX_WEB_ORIGINS || !origins.every((o) => WEB_ORIGIN.test(o))) {
    throw new ConfigurationError(
      'webOrigins',
      `must be 1 to ${MAX_WEB_ORIGINS} origins such as https://chat.example.org (scheme and host, no path; ` +
        'http only for localhost), as a list or comma-separated',
      raw,
    );
  }
  return { webOrigins: [...new Set(origins)] };
}

/** Absent, null and empty all mean "not configured". */
const absent = isUnset;

function customDomains(raw: Readonly<Record<string, unknown>>): { customDomains?: CustomDomains } {
  if (DOMAIN_KEYS.every((key) => absent(raw[key]))) return {};
  const name = (key: 'httpDomainName' | 'webSocketDomainName') => {
    const value = raw[key];
    if (typeof value !== 'string' || !DOMAIN_NAME.test(value.trim().toLowerCase())) {
      throw new ConfigurationError(
        key,
        'must be a domain name such as api.example.org (custom domains need both httpDomainName and ' +
          'webSocketDomainName: API Gateway cannot serve the WebSocket and the HTTP API on one name)',
        value,
      );
    }
    return value.trim().toLowerCase();
  };
  const httpDomainName = name('httpDomainName');
  const webSocketDomainName = name('webSocketDomainName');
  if (httpDomainName === webSocketDomainName) {
    throw new ConfigurationError(
      'webSocketDomainName',
      'must differ from httpDomainName: API Gateway cannot serve both APIs on one custom domain',
      raw.webSocketDomainName,
    );
  }
  let certificateArn: string | undefined;
  if (!absent(raw.certificateArn)) {
    if (typeof raw.certificateArn !== 'string' || !CERTIFICATE_ARN.test(raw.certificateArn.trim())) {
      throw new ConfigurationError(
        'certificateArn',
        'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) in the ' +
          "deployment's Region, covering both domain names",
        raw.certificateArn,
      );
    }
    certificateArn = raw.certificateArn.trim();
  }
  const hostedZone = zone(raw, { httpDomainName, webSocketDomainName });
  if (certificateArn === undefined && hostedZone === undefined) {
    throw new ConfigurationError(
      'certificateArn',
      'is needed for custom domains unless hostedZoneId and hostedZoneName name the Route 53 zone ' +
        'in which the stack can validate a new certificate',
      raw.certificateArn,
    );
  }
  return {
    customDomains: {
      httpDomainName,
      webSocketDomainName,
      ...(certificateArn ? { certificateArn } : {}),
      ...(hostedZone ? { hostedZone } : {}),
    },
  };
}

function zone(
  raw: Readonly<Record<string, unknown>>,
  names: Readonly<Record<'httpDomainName' | 'webSocketDomainName', string>>,
) {
  if (absent(raw.hostedZoneId) && absent(raw.hostedZoneName)) return undefined;
  const id = raw.hostedZoneId;
  if (typeof id !== 'string' || !HOSTED_ZONE_ID.test(id.trim())) {
    throw new ConfigurationError(
      'hostedZoneId',
      'must be a Route 53 hosted zone id (Z followed by letters and digits), given with hostedZoneName',
      id,
    );
  }
  const zoneName = raw.hostedZoneName;
  const normalized = typeof zoneName === 'string' ? zoneName.trim().toLowerCase().replace(/\.$/, '') : '';
  if (!DOMAIN_NAME.test(normalized)) {
    throw new ConfigurationError(
      'hostedZoneName',
      "must be the hosted zone's domain name (e.g. example.org), given with hostedZoneId",
      zoneName,
    );
  }
  for (const key of ['httpDomainName', 'webSocketDomainName'] as const) {
    if (!names[key].endsWith(`.${normalized}`)) {
      throw new ConfigurationError(key, `must be a name inside the hosted zone ${normalized}`, names[key]);
    }
  }
  return { id: id.trim(), name: normalized };
}

/** Reads every configuration key from the CDK context of `scope` and parses it. */
export function readConfig(scope: IConstruct): SwitchyardConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value: unknown = scope.node.tryGetContext(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseConfig(raw);
}

/**
 * Validates a configuration given as construct props (the Switchyard construct's): absent keys take
 * CONFIG_DEFAULTS, and every value passes the checks a CDK context value passes (parseConfig).
 */
export function configFromProps(props: Partial<SwitchyardConfig>): SwitchyardConfig {
  const { customDomains: domains, ...rest } = props;
  return parseConfig({
    ...rest,
    ...(domains
      ? {
          httpDomainName: domains.httpDomainName,
          webSocketDomainName: domains.webSocketDomainName,
          certificateArn: domains.certificateArn,
          hostedZoneId: domains.hostedZone?.id,
          hostedZoneName: domains.hostedZone?.name,
        }
      : {}),
  });
}
