/**
 * Verification-code delivery on AWS: which kinds are on for which configuration, and what reaches
 * SES and SNS. The SDK clients are stubs of the SES/SNS APIs (they record the commands sent); the
 * environment parsing that picks the configuration is the real one.
 */
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionSpec } from '../../contract/manifest.ts';
import type { TableName } from '../../contract/schema.ts';
import {
  awsCodeSender,
  type CodeTransport,
  codeMessage,
  type VerificationCodesConfig,
} from '../../lambdas/adapters/codes.ts';
import { systemClock, systemRandom } from '../../lambdas/domain/clock.ts';
import { configFromEnv, ENV } from '../../lambdas/runtime/env.ts';
import { composeDirectory } from '../../lambdas/runtime/functions/directory.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { LIMITS } from '../../protocol/limits.ts';

interface Sent {
  readonly ses: unknown[];
  readonly sns: unknown[];
}

/**
 * SES and SNS stand-ins that record the SDK commands they are asked to send; `fail` makes them throw
 * like AWS.
 */
function stubClients(fail?: { name: string }): { transport: CodeTransport; sent: Sent } {
  const sent: Sent = { ses: [], sns: [] };
  const send = async (into: unknown[], command: unknown) => {
    if (fail) throw Object.assign(new Error('AWS said no'), fail);
    into.push(command);
    return {};
  };
  return {
    transport: {
      sendEmail: (input) => send(sent.ses, new SendEmailCommand(input)),
      publish: (input) => send(sent.sns, new PublishCommand(input)),
    },
    sent,
  };
}

/** The variables a function's configuration parser requires, with made-up values. */
function baseEnv(spec: FunctionSpec): Record<string, string> {
  return {
    ...Object.fromEntries(
      (Object.keys(spec.tables) as TableName[]).map((table) => [ENV.tables[table], table]),
    ),
    ...(spec.safeBucket.length > 0 ? { [ENV.safeBucket]: 'bucket' } : {}),
    ...(spec.manageConnections
      ? { [ENV.managementEndpoint]: 'https://abc123.execute-api.eu-central-1.amazonaws.com/ws' }
      : {}),
    ...(spec.readsServerKey
      ? {
          [ENV.serverKeySecretArn]:
            'arn:aws:secretsmanager:eu-central-1:123456789012:secret:server-key-AbC123',
        }
      : {}),
  };
}
const TABLE_ENV = baseEnv(FUNCTIONS.directory);

function codesConfig(env: Record<string, string>): VerificationCodesConfig | undefined {
  return configFromEnv({ ...TABLE_ENV, ...env }, FUNCTIONS.directory).verificationCodes;
}

describe('verification codes on AWS: configuration', () => {
  it('is off unless VERIFICATION_EMAIL_FROM or VERIFICATION_SMS=on is set', () => {
    expect(codesConfig({})).toBeUndefined();
    expect(codesConfig({ [ENV.verificationSms]: 'off', [ENV.verificationEmailFrom]: ' ' })).toBeUndefined();
    expect(codesConfig({ [ENV.verificationEmailFrom]: 'codes@example.org' })).toEqual({
      emailFrom: 'codes@example.org',
      sms: false,
    });
    expect(codesConfig({ [ENV.verificationSms]: 'on' })).toEqual({ sms: true });
  });

  it('fails loudly on a malformed value, naming the variable but not the value', () => {
    expect(() => codesConfig({ [ENV.verificationEmailFrom]: 'not-an-address' })).toThrow(
      /VERIFICATION_EMAIL_FROM must be an e-mail address/,
    );
    expect(() => codesConfig({ [ENV.verificationEmailFrom]: 'not-an-address' })).not.toThrow(
      /not-an-address/,
    );
    expect(() => codesConfig({ [ENV.verificationSms]: 'yes' })).toThrow(
      /VERIFICATION_SMS must be "on" or "off"/,
    );
  });

  it('is parsed only for functions that send codes', () => {
    const config = configFromEnv(
      { ...baseEnv(FUNCTIONS.wsConnect), [ENV.verificationSms]: 'on' },
      FUNCTIONS.wsConnect,
    );
    expect(config.verificationCodes).toBeUndefined();
  });
});

describe('verification codes on AWS: sending', () => {
  it('sends e-mail codes with SES from the configured sender, and refuses SMS when only e-mail is on', async () => {
    const { transport, sent } = stubClients();
    const sender = awsCodeSender({ emailFrom: 'codes@example.org', sms: false }, transport);
    expect(sender.enabled).toBe(true);
    expect(sender.kinds).toEqual(['email']);
    await sender.send('email', 'alice@example.net', '042917');
    expect(sent.ses).toHaveLength(1);
    const command = sent.ses[0] as SendEmailCommand;
    expect(command).toBeInstanceOf(SendEmailCommand);
    expect(command.input).toEqual({
      FromEmailAddress: 'codes@example.org',
      Destination: { ToAddresses: ['alice@example.net'] },
      Content: {
        Simple: {
          Subject: { Data: 'Your Switchyard verification code', Charset: 'UTF-8' },
          Body: { Text: { Data: codeMessage('042917'), Charset: 'UTF-8' } },
        },
      },
    });
    await expect(sender.send('phone', '41791234567', '042917')).rejects.toMatchObject({
      code: 'not_supported',
    });
    expect(sent.sns).toEqual([]);
  });

  it('sends SMS codes with SNS to the E.164 number, and refuses e-mail when only SMS is on', async () => {
    const { transport, sent } = stubClients();
    const sender = awsCodeSender({ sms: true }, transport);
    expect(sender.enabled).toBe(true);
    expect(sender.kinds).toEqual(['phone']);
    await sender.send('phone', '41791234567', '000123');
    const command = sent.sns[0] as PublishCommand;
    expect(command).toBeInstanceOf(PublishCommand);
    expect(command.input).toEqual({
      PhoneNumber: '+41791234567',
      Message: codeMessage('000123'),
      MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
    });
    await expect(sender.send('email', 'alice@example.net', '000123')).rejects.toMatchObject({
      code: 'not_supported',
    });
    expect(sent.ses).toEqual([]);
  });

  it('sends both kinds when both are configured', async () => {
    const { transport, sent } = stubClients();
    const sender = awsCodeSender({ emailFrom: 'codes@example.org', sms: true }, transport);
    expect(sender.kinds).toEqual(['email', 'phone']);
    await sender.send('email', 'a@example.net', '111111');
    await sender.send('phone', '4915112345678', '222222');
    expect([sent.ses.length, sent.sns.length]).toEqual([1, 1]);
  });

  it('puts the code, and nothing identifying, into one fixed sentence', () => {
    const text = codeMessage('123456');
    expect(text).toBe(
      `Your Switchyard verification code is 123456. It is valid for ${LIMITS.verificationCodeTtlSeconds / 60} minutes.`,
    );
  });

  it('turns a vendor failure into a domain error that carries no address', async () => {
    const throttled = stubClients({ name: 'ThrottlingException' });
    const sender = awsCodeSender({ emailFrom: 'codes@example.org', sms: true }, throttled.transport);
    await expect(sender.send('email', 'alice@example.net', '123456')).rejects.toMatchObject({
      code: 'rate_limited',
    });
    const rejected = stubClients({ name: 'MessageRejected' });
    const error = await awsCodeSender({ emailFrom: 'codes@example.org', sms: true }, rejected.transport)
      .send('phone', '41791234567', '123456')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect((error as SwitchyardError).code).toBe('unavailable');
    expect((error as Error).message).not.toMatch(/41791234567|alice/);
  });

  it('is what the directory function builds on AWS from the configuration, and off without one', () => {
    const { transport, sent } = stubClients();
    const clients = { dynamo: {} as never, management: () => ({}) as never, codes: transport };
    const base = { clock: systemClock, random: systemRandom, log: () => {} };
    const on = composeDirectory(
      configFromEnv({ ...TABLE_ENV, [ENV.verificationSms]: 'on' }, FUNCTIONS.directory),
      clients,
      base,
    );
    const off = composeDirectory(configFromEnv(TABLE_ENV, FUNCTIONS.directory), clients, base);
    // Linking an e-mail address is refused before anything is touched when e-mail codes are off.
    const proof = { token: new Uint8Array(32), response: new Uint8Array(32) };
    const id = 'ABCD2345' as never;
    return Promise.all([
      expect(on.directory.link(id, 'email', 'a@example.net', proof)).rejects.toMatchObject({
        code: 'not_supported',
      }),
      expect(off.directory.link(id, 'phone', '+41791234567', proof)).rejects.toMatchObject({
        code: 'not_supported',
      }),
    ]).then(() => expect([sent.ses.length, sent.sns.length]).toEqual([0, 0]));
  });
});
