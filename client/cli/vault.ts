/**
 * `switchyard vault store|open|delete`: a 32-byte key kept on the server under a short password, with
 * a hard limit on wrong passwords (docs/PROTOCOL.md, "Vault"). The password never leaves this
 * machine. Keys are printed and read as 64 hex characters.
 */
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { VAULT_KEY_BYTES } from '../../protocol/vault.ts';
import { VaultClient, VaultError, type VaultGate } from '../vault/client.ts';
import { type CliIo, type Command, EXIT, exitCodesHelp, UsageError } from './command.ts';
import {
  checkAddress,
  commonOptionsHelp,
  DIRECTORY_EXITS,
  IDENTITY_EXITS,
  type Invocation,
  kindArgument,
  Invocation as Parse,
  runReported,
} from './directory-common.ts';
import { promptHidden, promptLine } from './prompt.ts';

const HELP = `Usage:
  switchyard vault store [--tries N] [--key-stdin] [--password-stdin]
  switchyard vault open [--identity ID --email ADDRESS | --phone NUMBER] [--password-stdin]
  switchyard vault delete [--yes]

Keeps a 32-byte key on the server under a short password. Each wrong password spends one of the
vault's tries (default ${LIMITS.vaultMaxTries}, at most ${LIMITS.vaultMaxTries}); a right one restores them; after the last wrong
one the vault is deleted for good. The password never leaves this machine (OPAQUE).

  store    Stores a new random key (printed as hex on stdout), or with --key-stdin the hex key on
           stdin. Needs the identity file, and an e-mail address or phone number linked to the
           identity (\`switchyard link\`): opening without the identity file needs a code sent there.
  open     Prints the key. With --email or --phone (and --identity), for when the identity file is
           lost: a code is sent to that linked address and asked for here. Without them, the
           identity file proves the attempt instead.
  delete   Deletes the vault (asks first unless --yes).

Secrets on stdin, one per line: the identity file's passphrase (with --passphrase-stdin), the key
(store --key-stdin), the vault password (--password-stdin), the code (open, no terminal).

Vault exit codes: 3 wrong password or no vault · 15 code invalid · 16 no linked address the server
reaches.

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([
  ...DIRECTORY_EXITS,
  ...IDENTITY_EXITS,
  EXIT.wrongPassword,
  EXIT.notSupported,
  EXIT.codeInvalid,
  EXIT.keyRefused,
  EXIT.notFound,
])}`;

const OPTIONS = {
  tries: { type: 'string' },
  'key-stdin': { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  identity: { type: 'string' },
  email: { type: 'string' },
  phone: { type: 'string' },
  yes: { type: 'boolean' },
} as const;

const VAULT_MESSAGES: Partial<Record<VaultError['code'], [number, string]>> = {
  vault_login_failed: [EXIT.wrongPassword, 'Wrong password, or no vault (a try was spent if there was one).'],
  address_required: [
    EXIT.notSupported,
    'Link an e-mail address or phone number first (`switchyard link`), one the server sends codes to.',
  ],
  code_invalid: [EXIT.codeInvalid, 'The code is wrong, expired or used up. Ask for a new one.'],
  proof_invalid: [EXIT.keyRefused, 'The server refused the identity file’s key for this identity.'],
  not_found: [EXIT.notFound, 'The identity is unknown, revoked or deleted.'],
  rate_limited: [EXIT.rateLimited, 'The server is busy. Try again in a moment.'],
  unreachable: [EXIT.unreachable, 'The server cannot be reached.'],
};

export async function vaultPassword(run: Invocation, twice: boolean): Promise<string> {
  if (run.flag('password-stdin')) return run.stdinSecret('the vault password');
  const first = await promptHidden('Vault password: ', run.io);
  if (twice && (await promptHidden('Repeat the vault password: ', run.io)) !== first)
    throw new UsageError('The two passwords differ. Nothing was stored.');
  if (first === '') throw new UsageError('The vault password must not be empty.');
  return first;
}

export function vaultClient(run: Invocation): VaultClient {
  try {
    return new VaultClient({ server: run.server });
  } catch {
    throw new UsageError('--server must be an https:// URL (http:// only for localhost).');
  }
}

/** --tries: wrong passwords a vault allows (default and most: LIMITS.vaultMaxTries). */
export function vaultTries(run: Invocation): number {
  const triesText = run.string('tries') ?? String(LIMITS.vaultMaxTries);
  const tries = Number(triesText);
  if (!/^[0-9]+$/.test(triesText) || tries < 1 || tries > LIMITS.vaultMaxTries)
    throw new UsageError(`--tries must be 1 to ${LIMITS.vaultMaxTries}.`);
  return tries;
}

async function store(run: Invocation, io: CliIo): Promise<number> {
  const tries = vaultTries(run);
  const client = vaultClient(run);
  const { identity, keys } = await run.identity();
  const given = run.flag('key-stdin') ? fromHex((await run.stdinSecret('the key (hex)')).trim()) : undefined;
  if (run.flag('key-stdin') && given?.length !== VAULT_KEY_BYTES)
    throw new UsageError('The key must be 64 lowercase hex characters.');
  const key = given ?? randomBytes(VAULT_KEY_BYTES);
  await client.store(identity, keys.secretKey, await vaultPassword(run, true), key, tries);
  if (!given) io.stdout.write(`${toHex(key)}\n`);
  io.stderr.write(`Stored: ${tries} wrong password${tries === 1 ? '' : 's'} allowed.\n`);
  return EXIT.ok;
}

/**
 * What an attempt needs: the identity, the password and a gate. With --email or --phone (and
 * --identity), for a lost identity file: a code is sent to that linked address and read here.
 * Without them the identity file's key proves the attempt.
 */
export async function vaultAttempt(
  run: Invocation,
  client: VaultClient,
): Promise<{ identity: string; password: string; gate: VaultGate }> {
  const address = run.string('email') ?? run.string('phone');
  if (address === undefined) {
    const file = await run.identity();
    return {
      identity: file.identity,
      password: await vaultPassword(run, false),
      gate: { secretKey: file.keys.secretKey },
    };
  }
  if (run.string('email') !== undefined && run.string('phone') !== undefined)
    throw new UsageError('Give one of --email and --phone.');
  const kind = kindArgument(run.string('email') !== undefined ? 'email' : 'phone');
  checkAddress(kind, address, `--${kind}`);
  const identity = run.string('identity') ?? (await run.identity()).identity;
  const secret = await vaultPassword(run, false);
  const request = await client.requestCode(identity, kind, address);
  const code = run.io.stdin.isTTY
    ? await promptLine('Code sent to that address (if it is linked): ', run.io, '')
    : await run.stdinSecret('the code');
  return { identity, password: secret, gate: { request, code: code.trim() } };
}

async function open(run: Invocation, io: CliIo): Promise<number> {
  const client = vaultClient(run);
  const { identity, password: secret, gate } = await vaultAttempt(run, client);
  io.stdout.write(`${toHex(await client.open(identity, secret, gate))}\n`);
  return EXIT.ok;
}

/** The exit code and message for a vault refusal (undefined: not a VaultError). */
export function reportVaultError(error: unknown, io: CliIo): number | undefined {
  if (!(error instanceof VaultError)) return undefined;
  const [exit, message] = VAULT_MESSAGES[error.code] ?? [
    EXIT.serverError,
    `The server failed to answer (${error.code}, HTTP ${error.status}). Try again later.`,
  ];
  io.stderr.write(`switchyard: ${message}\n`);
  return exit;
}

export const vaultCommand: Command = {
  name: 'vault',
  run(args, io) {
    return runReported(io, 'switchyard vault --help', async () => {
      const run = Parse.parse(args, io, OPTIONS);
      const [action, ...rest] = run.positionals;
      if (run.help || action === undefined) {
        io.stdout.write(HELP);
        return run.help ? EXIT.ok : EXIT.usage;
      }
      if (rest.length > 0) throw new UsageError('Unexpected argument(s).');
      try {
        if (action === 'store') return await store(run, io);
        if (action === 'open') return await open(run, io);
        if (action === 'delete') {
          const client = vaultClient(run);
          const { identity, keys } = await run.identity();
          await run.confirm('Delete the vault for good?');
          await client.delete(identity, keys.secretKey);
          io.stderr.write('Deleted.\n');
          return EXIT.ok;
        }
      } catch (error) {
        const exit = reportVaultError(error, io);
        if (exit === undefined) throw error;
        return exit;
      }
      throw new UsageError('Expected store, open or delete.');
    });
  },
};
