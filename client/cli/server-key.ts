/**
 * `switchyard server-key`: prints the server public key that clients pin, from a deployment's
 * Secrets Manager secret (the stack output `ServerKeySecretArn`; needs AWS credentials allowed to
 * read it) or from a local runner's data folder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { serverPublicKeyHex } from '../../protocol/server-key.ts';
import { type Command, EXIT } from './command.ts';

const HELP = `Usage: switchyard server-key (--secret-arn ARN [--region REGION] | --data-dir DIR)

Prints the server's public key (hex), for clients to pin (--server-key, $SWITCHYARD_SERVER_KEY).
  --secret-arn ARN   A deployment: the stack output ServerKeySecretArn (uses your AWS credentials).
  --data-dir DIR     A local runner: its data folder (default ./.data).
`;

export const serverKeyCommand: Command = {
  name: 'server-key',
  summary: "Print the server's public key for clients to pin",
  async run(args, io) {
    let values: Record<string, string | boolean | undefined>;
    try {
      values = parseArgs({
        args: [...args],
        options: {
          'secret-arn': { type: 'string' },
          region: { type: 'string' },
          'data-dir': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
        strict: true,
      }).values;
    } catch (error) {
      io.stderr.write(`switchyard: ${(error as Error).message}\n${HELP}`);
      return EXIT.usage;
    }
    if (values.help) {
      io.stdout.write(HELP);
      return EXIT.ok;
    }
    const arn = values['secret-arn'];
    try {
      let stored: string | undefined;
      if (typeof arn === 'string') {
        const region = typeof values.region === 'string' ? values.region : arn.split(':')[3];
        const client = new SecretsManagerClient(region ? { region } : {});
        try {
          stored = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
        } finally {
          client.destroy();
        }
      } else {
        const dir = typeof values['data-dir'] === 'string' ? values['data-dir'] : '.data';
        stored = (JSON.parse(readFileSync(join(dir, 'server-key.json'), 'utf8')) as { secretKey?: string })
          .secretKey;
      }
      io.stdout.write(`${serverPublicKeyHex(stored)}\n`);
      return EXIT.ok;
    } catch (error) {
      io.stderr.write(`switchyard: could not read the server key: ${(error as Error).message}\n`);
      return EXIT.failure;
    }
  },
};
