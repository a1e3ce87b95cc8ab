/**
 * `switchyard-ops server-key`: prints the server public key that clients pin, from a deployment's
 * Secrets Manager secret (the stack output `ServerKeySecretArn`; needs AWS credentials allowed to
 * read it) or from a local runner's data folder; or makes the next key for a rotation. Every form
 * handles the server's *secret* key, which is the operator's: a client developer gets the public
 * key from `npm start`'s startup line or the deployment's `ServerPublicKey` output.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { serverPublicKeyHex } from '../protocol/server-key.ts';
import { type Command, EXIT, PROGRAM, parseOptions } from './command.ts';

const HELP = `Usage: ${PROGRAM} server-key (--secret-arn ARN [--region REGION] | --data-dir DIR)
       ${PROGRAM} server-key --new-secret-file FILE

Prints the server's public key (hex), for clients to pin (--server-key, $SWITCHYARD_SERVER_KEY).
  --secret-arn ARN        A deployment: the stack output ServerKeySecretArn (uses your AWS credentials).
  --data-dir DIR          A local runner: its data folder (default ./.data).
  --new-secret-file FILE  A rotation: writes a new secret key to FILE (mode 0600, never overwrites)
                          and prints its public key. Give clients that key as the next one first;
                          then put FILE's content into the secret (docs/OPERATIONS.md).

Exit codes: 0 ok · 1 the key could not be read or written · 2 usage
`;

export const serverKeyCommand: Command = {
  name: 'server-key',
  async run(args, io) {
    const values = parseOptions(
      args,
      {
        'secret-arn': { type: 'string' },
        region: { type: 'string' },
        'data-dir': { type: 'string' },
        'new-secret-file': { type: 'string' },
      },
      io,
      HELP,
    );
    if (typeof values === 'number') return values;
    const arn = values['secret-arn'];
    const newSecretFile = values['new-secret-file'];
    if (typeof newSecretFile === 'string') {
      if (arn !== undefined || values['data-dir'] !== undefined) {
        io.stderr.write(`${PROGRAM}: --new-secret-file makes a new key; it takes no other source\n${HELP}`);
        return EXIT.usage;
      }
      // 64 hex characters: the form protocol/server-key.ts takes as the X25519 secret key itself.
      const secret = randomBytes(32).toString('hex');
      try {
        writeFileSync(newSecretFile, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
        io.stderr.write(
          `${PROGRAM}: could not write the new secret: ${exists ? 'the file exists (it is never overwritten)' : (error as Error).message}\n`,
        );
        return EXIT.failure;
      }
      io.stdout.write(`${serverPublicKeyHex(secret)}\n`);
      return EXIT.ok;
    }
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
      io.stderr.write(`${PROGRAM}: could not read the server key: ${(error as Error).message}\n`);
      return EXIT.failure;
    }
  },
};
