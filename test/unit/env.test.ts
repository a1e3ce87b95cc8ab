import { describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionSpec } from '../../contract/manifest.ts';
import { ConfigError, configFromEnv, ENV } from '../../lambdas/runtime/env.ts';
import { LIMITS } from '../../protocol/limits.ts';

const everything: FunctionSpec = {
  entry: 'x.ts',
  httpRoutes: [],
  wsRoutes: [],
  tables: { connections: ['dynamodb:PutItem'], mailbox: ['dynamodb:Query'] },
  safeBucket: ['s3:GetObject'],
  manageConnections: true,
};

describe('configuration from the environment', () => {
  it('reads exactly what the function needs, with defaults for limits', () => {
    const config = configFromEnv({ [ENV.tables.connections]: 'conn-table' }, FUNCTIONS.wsConnect);
    expect(config.tables).toEqual({ connections: 'conn-table' });
    expect(config.safeBucket).toBeUndefined();
    expect(config.messageTtlDays).toBe(LIMITS.messageTtlDaysDefault);
    expect(config.safe).toEqual({
      maxBackupBytes: LIMITS.safeMaxBackupBytesDefault,
      retentionDays: LIMITS.safeRetentionDaysDefault,
    });
  });

  it('fails loudly, naming the variable, when something required is missing', () => {
    expect(() => configFromEnv({}, FUNCTIONS.wsConnect)).toThrow(
      new ConfigError(ENV.tables.connections, 'is required'),
    );
    const env = { [ENV.tables.connections]: 'c', [ENV.tables.mailbox]: 'm', [ENV.safeBucket]: 'b' };
    expect(() => configFromEnv(env, everything)).toThrow(/WS_MANAGEMENT_ENDPOINT is required/);
  });

  it('refuses malformed and out-of-range numbers without echoing their value', () => {
    const base = { [ENV.tables.connections]: 'c' };
    expect(() => configFromEnv({ ...base, [ENV.messageTtlDays]: 'fourteen' }, FUNCTIONS.wsConnect)).toThrow(
      'Configuration: MESSAGE_TTL_DAYS must be a whole number',
    );
    expect(() => configFromEnv({ ...base, [ENV.messageTtlDays]: '0' }, FUNCTIONS.wsConnect)).toThrow(
      /between 1 and 365/,
    );
    expect(() => configFromEnv({ ...base, [ENV.safeRetentionDays]: '99999' }, FUNCTIONS.wsConnect)).toThrow(
      /SAFE_RETENTION_DAYS/,
    );
    expect(configFromEnv({ ...base, [ENV.messageTtlDays]: '30' }, FUNCTIONS.wsConnect).messageTtlDays).toBe(
      30,
    );
  });

  it('reads the server key secret and its generation for the functions that hold the key', () => {
    const env = {
      [ENV.tables.connections]: 'conn-table',
      [ENV.tables.identities]: 'id-table',
      [ENV.serverKeySecretArn]: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:server-key-AbC123',
    };
    const spec = {
      ...FUNCTIONS.wsConnect,
      tables: { connections: [], identities: [] },
      readsServerKey: true,
    };
    expect(configFromEnv(env, spec).serverKey).toEqual({
      kind: 'secret',
      secretArn: env[ENV.serverKeySecretArn],
      generation: 1,
    });
    expect(configFromEnv({ ...env, [ENV.serverKeyGeneration]: '4' }, spec).serverKey).toMatchObject({
      generation: 4,
    });
    expect(() => configFromEnv({ ...env, [ENV.serverKeyGeneration]: 'next' }, spec)).toThrow(
      /SERVER_KEY_GENERATION must be a whole number/,
    );
  });
});
