/**
 * Verification codes on AWS: e-mail through Amazon SES (v2 `SendEmail`) from a verified sender
 * address, SMS through Amazon SNS (`Publish` to a phone number). Each kind is on only when the
 * deployment configures it; the other kind answers not_supported. The message is one fixed sentence
 * with the code: no identity, nothing else. The address goes to AWS here and nowhere else (never a
 * log line; a vendor error keeps it only as an unlogged `cause`).
 */
import type { SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import type { ContactKind } from '../../protocol/contacts.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { CodeSender } from '../domain/directory.ts';
import { translateAwsError } from './errors.ts';

/** Which code deliveries a deployment has (lambdas/runtime/env.ts parses it). */
export interface VerificationCodesConfig {
  /** A sender address verified in SES; set, e-mail codes are on. */
  readonly emailFrom?: string;
  /** SMS codes through SNS. */
  readonly sms: boolean;
}

/** The one sentence a code travels in. */
export function codeMessage(code: string): string {
  const minutes = Math.round(LIMITS.verificationCodeTtlSeconds / 60);
  return `Your Switchyard verification code is ${code}. It is valid for ${minutes} minutes.`;
}

const SUBJECT = 'Your Switchyard verification code';

/**
 * The two AWS calls codes travel by: SES v2 `SendEmail` and SNS `Publish`. The runtime's
 * implementation (lambdas/runtime/sdk/codes.ts) loads each SDK client on its first call, so the
 * directory function never loads SES or SNS unless a code is actually sent.
 */
export interface CodeTransport {
  sendEmail(input: SendEmailCommandInput): Promise<unknown>;
  publish(input: PublishCommandInput): Promise<unknown>;
}

/** The CodeSender for a deployment's configuration, sending through `transport`. */
export function awsCodeSender(config: VerificationCodesConfig, transport: CodeTransport): CodeSender {
  const kinds: ContactKind[] = [
    ...(config.emailFrom ? ['email' as const] : []),
    ...(config.sms ? ['phone' as const] : []),
  ];
  return {
    enabled: kinds.length > 0,
    kinds,
    async send(kind, address, code) {
      if (!kinds.includes(kind)) throw new SwitchyardError('not_supported');
      const text = codeMessage(code);
      if (kind === 'email') {
        await translateAwsError(() =>
          transport.sendEmail({
            FromEmailAddress: config.emailFrom,
            Destination: { ToAddresses: [address] },
            Content: {
              Simple: {
                Subject: { Data: SUBJECT, Charset: 'UTF-8' },
                Body: { Text: { Data: text, Charset: 'UTF-8' } },
              },
            },
          }),
        );
        return;
      }
      // The domain hands over E.164 digits without "+"; SNS wants the "+".
      await translateAwsError(() =>
        transport.publish({
          PhoneNumber: `+${address}`,
          Message: text,
          MessageAttributes: {
            // SNS's type for one-time codes: delivery optimised for reliability rather than cost.
            'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          },
        }),
      );
    },
  };
}
