/**
 * SES and SNS for verification codes, loaded on the first code sent: most deployments never turn
 * code delivery on, and those that do send a code on a few requests only, so the directory
 * function's cold start does not pay for two SDK packages it rarely or never uses.
 */
import type { CodeTransport } from '../../adapters/codes.ts';
import { type ClientOptions, commonConfig } from './options.ts';

export function createCodeTransport(options: ClientOptions = {}): CodeTransport {
  let email: Promise<CodeTransport['sendEmail']> | undefined;
  let sms: Promise<CodeTransport['publish']> | undefined;
  return {
    async sendEmail(input) {
      email ??= import('@aws-sdk/client-sesv2').then(({ SESv2Client, SendEmailCommand }) => {
        const client = new SESv2Client(commonConfig(options));
        return (next) => client.send(new SendEmailCommand(next));
      });
      return (await email)(input);
    },
    async publish(input) {
      sms ??= import('@aws-sdk/client-sns').then(({ SNSClient, PublishCommand }) => {
        const client = new SNSClient(commonConfig(options));
        return (next) => client.send(new PublishCommand(next));
      });
      return (await sms)(input);
    },
  };
}
