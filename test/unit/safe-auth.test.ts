import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../contract/manifest.ts';
import { isAbsentError } from '../../lambdas/adapters/backups.ts';
import { parseBasicAuthSecret, SecretFormatError } from '../../lambdas/adapters/secrets.ts';
import { basicAuthDigest, basicAuthMatches, checkBasicAuthCredentials } from '../../lambdas/domain/safe.ts';
import { ConfigError, configFromEnv, ENV } from '../../lambdas/runtime/env.ts';
import { basic } from '../support/safe-events.ts';

const credentials = { username: 'operator', password: 'correct horse battery' };
const digest = basicAuthDigest(credentials);

describe('Safe Basic auth check', () => {
  it('accepts exactly the configured credentials', () => {
    expect(basicAuthMatches(basic('operator', 'correct horse battery'), digest)).toBe(true);
    expect(
      basicAuthMatches(
        `  bAsIc   ${Buffer.from('operator:correct horse battery').toString('base64')}`,
        digest,
      ),
    ).toBe(true);
  });

  it('refuses wrong, partial, malformed and missing credentials', () => {
    for (const header of [
      undefined,
      '',
      basic('operator', 'wrong'),
      basic('Operator', 'correct horse battery'),
      basic('operator', 'correct horse battery '),
      `Bearer ${Buffer.from('operator:correct horse battery').toString('base64')}`,
      'Basic',
      'Basic !!!',
      `Basic ${'A'.repeat(10_000)}`,
    ]) {
      expect(basicAuthMatches(header, digest), String(header).slice(0, 40)).toBe(false);
    }
  });

  it('handles non-ASCII credentials as UTF-8', () => {
    const d = basicAuthDigest({ username: 'zoë', password: 'pässwörd' });
    expect(basicAuthMatches(basic('zoë', 'pässwörd'), d)).toBe(true);
    expect(basicAuthMatches(basic('zoe', 'pässwörd'), d)).toBe(false);
  });

  it('refuses credentials Basic auth cannot carry, without quoting them', () => {
    for (const bad of [
      { username: '', password: 'x' },
      { username: 'a:b', password: 'secret-value' },
      { username: 'a', password: '' },
    ]) {
      expect(() => checkBasicAuthCredentials(bad)).toThrow();
      try {
        checkBasicAuthCredentials(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain('secret-value');
      }
    }
  });
});

describe('Safe Basic auth secret (Secrets Manager)', () => {
  it('parses {"username","password"} JSON', () => {
    expect(parseBasicAuthSecret('{"username":"u","password":"p w","other":1}')).toEqual({
      username: 'u',
      password: 'p w',
    });
  });

  it('refuses anything else with a message that never quotes the value', () => {
    for (const value of [
      undefined,
      'not json s3cr3t',
      '[]',
      '{"username":"u"}',
      '{"username":"u","password":3}',
      '{"username":"u:x","password":"s3cr3t"}',
      '{"username":"","password":"s3cr3t"}',
    ]) {
      expect(() => parseBasicAuthSecret(value)).toThrow(SecretFormatError);
      try {
        parseBasicAuthSecret(value);
      } catch (error) {
        expect((error as Error).message).not.toContain('s3cr3t');
      }
    }
  });
});

describe('Safe configuration from the environment', () => {
  const base = { [ENV.safeBucket]: 'bucket' };
  const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:safe-basic-auth-AbCdEf';

  it('reads the Basic auth secret ARN for the safe function only', () => {
    expect(
      configFromEnv({ ...base, [ENV.safeBasicAuthSecretArn]: arn }, FUNCTIONS.safe).safe.basicAuth,
    ).toEqual({
      kind: 'secret',
      secretArn: arn,
    });
    expect(configFromEnv(base, FUNCTIONS.safe).safe.basicAuth).toBeUndefined();
    expect(
      configFromEnv(
        { [ENV.safeBasicAuthSecretArn]: arn, [ENV.tables.connections]: 'connections' },
        FUNCTIONS.wsDefault,
      ).safe.basicAuth,
    ).toBeUndefined();
  });

  it('fails loudly on a malformed ARN, naming the variable but not the value', () => {
    const run = () =>
      configFromEnv({ ...base, [ENV.safeBasicAuthSecretArn]: 'my-secret-name' }, FUNCTIONS.safe);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/SAFE_BASIC_AUTH_SECRET_ARN/);
    expect(run).not.toThrow(/my-secret-name/);
  });

  it('requires the bucket for the safe function', () => {
    expect(() => configFromEnv({}, FUNCTIONS.safe)).toThrow(/SAFE_BUCKET/);
  });
});

describe('S3 "absent" errors', () => {
  it('treat 404 and, without s3:ListBucket, 403 as no backup', () => {
    expect(isAbsentError({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } })).toBe(true);
    expect(isAbsentError({ name: 'NotFound', $metadata: { httpStatusCode: 404 } })).toBe(true);
    expect(isAbsentError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(true);
    expect(isAbsentError({ name: 'Forbidden', $metadata: {} })).toBe(true);
  });

  it('do not swallow throttling or server errors', () => {
    expect(isAbsentError({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe(false);
    expect(isAbsentError({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe(false);
    expect(isAbsentError(new Error('socket hang up'))).toBe(false);
    expect(isAbsentError(null)).toBe(false);
    expect(isAbsentError({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } })).toBe(false);
  });
});
