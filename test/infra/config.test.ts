import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_DEFAULTS,
  CONFIG_KEYS,
  type ConfigKey,
  type DomainKey,
  parseConfig,
  readConfig,
  SAFE_MAX_BACKUP_BYTES_LIMIT,
} from '../../lib/config.ts';
import { LIMITS } from '../../protocol/limits.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

describe('deployment configuration', () => {
  it('defaults to the limits table', () => {
    expect(parseConfig({})).toEqual({
      messageTtlDays: LIMITS.messageTtlDaysDefault,
      safeMaxBackupBytes: LIMITS.safeMaxBackupBytesDefault,
      safeRetentionDays: LIMITS.safeRetentionDaysDefault,
      registrationPolicy: 'open',
      mediaMaxBlobBytes: LIMITS.mediaMaxBlobBytesDefault,
      mediaTtlDays: LIMITS.mediaTtlDaysDefault,
      mediaQuotaBytes: LIMITS.mediaQuotaBytesDefault,
      logRetentionDays: 30,
      httpRateLimit: CONFIG_DEFAULTS.httpRateLimit,
      httpBurstLimit: CONFIG_DEFAULTS.httpBurstLimit,
      wsRateLimit: CONFIG_DEFAULTS.wsRateLimit,
      wsBurstLimit: CONFIG_DEFAULTS.wsBurstLimit,
      serverKeyGeneration: 1,
      verificationSms: false,
      pushDebounceSeconds: LIMITS.pushDebounceSecondsDefault,
      customerManagedKey: false,
    });
  });

  it('ships cdk.json context that spells out exactly the defaults', () => {
    const fromCdkJson = Object.fromEntries(
      CONFIG_KEYS.filter((key) => key in cdkJson.context).map((key) => [key, cdkJson.context[key]]),
    );
    expect(fromCdkJson).toEqual(CONFIG_DEFAULTS);
    expect(parseConfig(cdkJson.context)).toEqual(CONFIG_DEFAULTS);
  });

  it('accepts whole numbers given as strings, as `cdk deploy -c key=value` passes them', () => {
    const config = parseConfig({ messageTtlDays: '7', logRetentionDays: '90', wsBurstLimit: ' 20 ' });
    expect(config.messageTtlDays).toBe(7);
    expect(config.logRetentionDays).toBe(90);
    expect(config.wsBurstLimit).toBe(20);
  });

  it('reads the CDK context of the app', () => {
    const app = new App({ context: { messageTtlDays: 3, safeRetentionDays: '30' } });
    expect(readConfig(app)).toMatchObject({ messageTtlDays: 3, safeRetentionDays: 30, wsRateLimit: 500 });
  });

  it('leaves the Safe open unless a complete Basic auth secret ARN is configured', () => {
    expect(parseConfig({}).safeBasicAuthSecretArn).toBeUndefined();
    expect(parseConfig({ safeBasicAuthSecretArn: '' }).safeBasicAuthSecretArn).toBeUndefined();
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:switchyard/safe-auth-AbC123';
    expect(parseConfig({ safeBasicAuthSecretArn: arn }).safeBasicAuthSecretArn).toBe(arn);
  });

  it('sends no verification codes unless a sender or SMS is configured', () => {
    expect(parseConfig({}).verificationEmailFrom).toBeUndefined();
    expect(parseConfig({ verificationEmailFrom: '' }).verificationEmailFrom).toBeUndefined();
    expect(parseConfig({ verificationEmailFrom: ' codes@example.org ' }).verificationEmailFrom).toBe(
      'codes@example.org',
    );
    expect(parseConfig({ verificationSms: 'true' }).verificationSms).toBe(true);
    expect(parseConfig({ verificationSms: false }).verificationSms).toBe(false);
  });

  it('uses AWS-owned and AWS-managed keys unless a customer-managed key is asked for', () => {
    expect(parseConfig({}).customerManagedKey).toBe(false);
    expect(parseConfig({ customerManagedKey: 'true' }).customerManagedKey).toBe(true);
    expect(parseConfig({ customerManagedKey: true }).customerManagedKey).toBe(true);
  });

  it('keeps Safe backups within what a Lambda-backed HTTP route can receive', () => {
    expect(SAFE_MAX_BACKUP_BYTES_LIMIT).toBeLessThanOrEqual(LIMITS.httpBodyBytes);
    // base64 inside a 6 MB Lambda event
    expect(SAFE_MAX_BACKUP_BYTES_LIMIT).toBeLessThan((6 * 1024 * 1024 * 3) / 4);
    expect(parseConfig({ safeMaxBackupBytes: SAFE_MAX_BACKUP_BYTES_LIMIT }).safeMaxBackupBytes).toBe(
      SAFE_MAX_BACKUP_BYTES_LIMIT,
    );
  });

  it('sends alarm notices by e-mail only when an address is configured', () => {
    expect(parseConfig({}).alarmEmail).toBeUndefined();
    expect(parseConfig({ alarmEmail: ' ops@example.org ' }).alarmEmail).toBe('ops@example.org');
  });

  it('takes web origins as a list or comma-separated, normalised', () => {
    expect(parseConfig({}).webOrigins).toBeUndefined();
    expect(parseConfig({ webOrigins: ['https://chat.example.org'] }).webOrigins).toEqual([
      'https://chat.example.org',
    ]);
    expect(parseConfig({ webOrigins: 'https://A.example.org/, http://localhost:5173' }).webOrigins).toEqual([
      'https://a.example.org',
      'http://localhost:5173',
    ]);
  });

  const DOMAINS = { httpDomainName: 'api.example.org', webSocketDomainName: 'chat.example.org' };
  const CERTIFICATE =
    'arn:aws:acm:eu-central-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
  const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.org' };

  it('takes custom domains with a certificate, a hosted zone or both, normalising the names', () => {
    expect(parseConfig({}).customDomains).toBeUndefined();
    expect(parseConfig({ ...DOMAINS, certificateArn: CERTIFICATE }).customDomains).toEqual({
      ...DOMAINS,
      certificateArn: CERTIFICATE,
    });
    expect(
      parseConfig({
        httpDomainName: 'API.example.org',
        webSocketDomainName: 'chat.example.org',
        ...ZONE,
        hostedZoneName: 'Example.org.',
      }).customDomains,
    ).toEqual({ ...DOMAINS, hostedZone: { id: ZONE.hostedZoneId, name: 'example.org' } });
  });

  const invalidDomains: [DomainKey, Record<string, unknown>, RegExp][] = [
    ['httpDomainName', { webSocketDomainName: 'chat.example.org', certificateArn: CERTIFICATE }, /both/],
    ['webSocketDomainName', { httpDomainName: 'api.example.org', ...ZONE }, /both/],
    [
      'httpDomainName',
      { ...DOMAINS, httpDomainName: 'https://api.example.org/', certificateArn: CERTIFICATE },
      /domain name/,
    ],
    [
      'httpDomainName',
      { ...DOMAINS, httpDomainName: 'localhost', certificateArn: CERTIFICATE },
      /domain name/,
    ],
    [
      'webSocketDomainName',
      { ...DOMAINS, webSocketDomainName: 'api.example.org', certificateArn: CERTIFICATE },
      /differ/,
    ],
    ['certificateArn', DOMAINS, /unless hostedZoneId and hostedZoneName/],
    [
      'certificateArn',
      { ...DOMAINS, certificateArn: 'arn:aws:acm:eu-central-1:123456789012:certificate/nope' },
      /ACM/,
    ],
    ['hostedZoneId', { ...DOMAINS, hostedZoneName: 'example.org' }, /hosted zone id/],
    ['hostedZoneId', { ...DOMAINS, ...ZONE, hostedZoneId: '/hostedzone/Z0123' }, /hosted zone id/],
    ['hostedZoneName', { ...DOMAINS, hostedZoneId: ZONE.hostedZoneId }, /hosted zone's domain name/],
    [
      'httpDomainName',
      { ...DOMAINS, ...ZONE, httpDomainName: 'api.example.com' },
      /inside the hosted zone example.org/,
    ],
    [
      'webSocketDomainName',
      { ...DOMAINS, ...ZONE, webSocketDomainName: 'chat.notexample.org' },
      /inside the hosted zone/,
    ],
  ];
  for (const [key, raw, problem] of invalidDomains) {
    it(`rejects custom domains ${JSON.stringify(raw)}, naming ${key}`, () => {
      expect(() => parseConfig(raw)).toThrow(`"${key}"`);
      expect(() => parseConfig(raw)).toThrow(problem);
    });
  }

  const invalid: [ConfigKey, unknown][] = [
    ['messageTtlDays', 0],
    ['messageTtlDays', 366],
    ['messageTtlDays', 1.5],
    ['messageTtlDays', 'two weeks'],
    ['messageTtlDays', ''],
    ['messageTtlDays', true],
    ['safeMaxBackupBytes', 0],
    ['safeMaxBackupBytes', SAFE_MAX_BACKUP_BYTES_LIMIT + 1],
    ['safeMaxBackupBytes', 10 * 1024 * 1024],
    ['safeRetentionDays', 0],
    ['safeRetentionDays', 3651],
    ['safeRetentionDays', -1],
    ['logRetentionDays', 0],
    ['logRetentionDays', 31],
    ['logRetentionDays', 9999],
    ['logRetentionDays', 'forever'],
    ['httpRateLimit', 0],
    ['httpRateLimit', 10_001],
    ['httpBurstLimit', 5_001],
    ['wsRateLimit', -5],
    ['wsBurstLimit', {}],
    ['safeBasicAuthSecretArn', 'my-secret'],
    ['safeBasicAuthSecretArn', 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:nosuffix'],
    ['safeBasicAuthSecretArn', 42],
    ['registrationPolicy', 'closed'],
    ['registrationPolicy', 1],
    ['verificationEmailFrom', 'codes'],
    ['verificationEmailFrom', 'codes@localhost'],
    ['verificationEmailFrom', 42],
    ['verificationSms', 'yes'],
    ['verificationSms', 1],
    ['customerManagedKey', 'yes'],
    ['customerManagedKey', 'arn:aws:kms:eu-central-1:123456789012:key/1234'],
    ['serverKeyGeneration', 0],
    ['serverKeyGeneration', 'next'],
    ['webOrigins', 'chat.example.org'],
    ['webOrigins', 'http://chat.example.org'],
    ['webOrigins', 'https://chat.example.org/app'],
    ['webOrigins', '*'],
    ['webOrigins', []],
    ['webOrigins', 42],
    ['alarmEmail', 'ops'],
    ['alarmEmail', ['ops@example.org']],
  ];
  for (const [key, value] of invalid) {
    it(`rejects ${key} = ${JSON.stringify(value)}, naming the key`, () => {
      expect(() => parseConfig({ [key]: value })).toThrow(`"${key}"`);
    });
  }

  it('says how to fix a bad value', () => {
    expect(() => parseConfig({ messageTtlDays: 400 })).toThrow(
      /"messageTtlDays" must be a whole number from 1 to 365 \(got 400\).*-c messageTtlDays=/,
    );
    expect(() => parseConfig({ logRetentionDays: 31 })).toThrow(/one of 1, 3, 5, 7, 14, 30, 60/);
  });
});
