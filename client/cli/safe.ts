/**
 * `switchyard safe backup|restore`: make and restore Threema Safe backups on any Threema-compatible
 * Safe server (a Switchyard deployment's `…/safe/`, or another one).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SafeClient, type ServerCredentials } from '../safe/client.ts';
import { SafeError, type SafeErrorCode } from '../safe/errors.ts';
import { parseSafeBackup } from '../safe/format.ts';
import { checkSafePassword, deriveSafeKeys, normaliseSafeIdentity, type SafeKeys } from '../safe/keys.ts';
import { type CliIo, type Command, EXIT, InterruptedError, UsageError } from './command.ts';
import { promptHidden, readSecretFromStdin } from './prompt.ts';

const HELP = `Usage:
  switchyard safe backup  --server URL --identity ID --file backup.json [--password-stdin]
  switchyard safe restore --server URL --identity ID [--out restored.json] [--password-stdin]

Make or restore a Threema Safe backup. The password is asked for on the terminal (twice for a
backup), or read from stdin with --password-stdin. Backups are encrypted on this machine; the
server only ever sees a name derived from ID and password, and encrypted bytes.

Options:
  --server URL        The Safe server's base URL, e.g. https://safe.example.com/safe/
                      (http:// only for localhost). For Basic auth put the credentials in the URL
                      (https://user:pass@host/...) or set SWITCHYARD_SAFE_SERVER_AUTH=user:pass.
  --identity ID       The Threema ID (8 characters).
  --file PATH         backup: the backup JSON to upload (Threema Safe format, version 1).
  --out PATH          restore: write the JSON here (mode 0600) instead of printing it.
  --password-stdin    Read the Safe password from stdin (one trailing newline is dropped).
  -h, --help          Show this help.

Exit codes:
  0 ok · 2 usage · 3 wrong password · 4 no backup · 5 server unreachable · 6 backup too large
  7 server needs other credentials · 8 rate limited · 9 not a valid backup · 10 server error
  1 anything else
`;

const EXIT_FOR: Record<SafeErrorCode, number> = {
  invalid_input: EXIT.usage,
  wrong_password: EXIT.wrongPassword,
  no_backup: EXIT.noBackup,
  too_large: EXIT.tooLarge,
  unauthorized: EXIT.unauthorized,
  rate_limited: EXIT.rateLimited,
  unreachable: EXIT.unreachable,
  server_error: EXIT.serverError,
  invalid_backup: EXIT.invalidBackup,
  unsupported_version: EXIT.invalidBackup,
};

/** Largest backup file read (bytes): well above any Safe server's limit. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

interface Parsed {
  readonly server: string;
  readonly identity: string;
  readonly file: string | undefined;
  readonly out: string | undefined;
  readonly passwordStdin: boolean;
  readonly help: boolean;
}

function parse(args: readonly string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        server: { type: 'string' },
        identity: { type: 'string' },
        file: { type: 'string' },
        out: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    server: typeof values.server === 'string' ? values.server : '',
    identity: typeof values.identity === 'string' ? values.identity : '',
    file: typeof values.file === 'string' ? values.file : undefined,
    out: typeof values.out === 'string' ? values.out : undefined,
    passwordStdin: values['password-stdin'] === true,
    help: values.help === true,
  };
}

function serverCredentials(io: CliIo): ServerCredentials | undefined {
  const raw = io.env.SWITCHYARD_SAFE_SERVER_AUTH;
  if (!raw) return undefined;
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError('SWITCHYARD_SAFE_SERVER_AUTH must be user:password.');
  return { username: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

async function readPassword(io: CliIo, passwordStdin: boolean, confirm: boolean): Promise<string> {
  if (passwordStdin) {
    const password = await readSecretFromStdin(io);
    checkSafePassword(password);
    return password;
  }
  const password = await promptHidden('Safe password: ', io);
  checkSafePassword(password);
  if (confirm && (await promptHidden('Repeat the Safe password: ', io)) !== password)
    throw new UsageError('The two passwords differ. Nothing was uploaded.');
  return password;
}

/** Derives the keys while showing that scrypt is working (it takes a noticeable moment). */
async function deriveWithProgress(io: CliIo, identity: string, password: string): Promise<SafeKeys> {
  const label = 'Deriving keys from the password (scrypt)';
  const started = Date.now();
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const tty = io.stderr.isTTY === true;
  io.stderr.write(tty ? `${label}… ` : `${label}…\n`);
  const keys = await deriveSafeKeys(identity, password, {
    progressIntervalMs: 100,
    onProgress: (elapsed) => {
      if (tty) io.stderr.write(`\r${label}… ${seconds(elapsed)}`);
    },
  });
  const done = `Keys derived in ${seconds(Date.now() - started)}.`;
  io.stderr.write(tty ? `\r${label}… ${done}\n` : `${done}\n`);
  return keys;
}

function requireCommon(parsed: Parsed): void {
  if (!parsed.server) throw new UsageError('--server URL is required.');
  if (!parsed.identity) throw new UsageError('--identity ID is required.');
}

async function backup(parsed: Parsed, io: CliIo): Promise<number> {
  requireCommon(parsed);
  if (!parsed.file) throw new UsageError('--file PATH (the backup JSON) is required.');
  if (parsed.out) throw new UsageError('--out is for restore.');
  // Everything that can be checked without the password is checked before asking for it.
  const client = new SafeClient({ server: parsed.server, credentials: serverCredentials(io) });
  const identity = normaliseSafeIdentity(parsed.identity);
  let text: string;
  try {
    const bytes = await readFile(parsed.file);
    if (bytes.length > MAX_FILE_BYTES)
      throw new UsageError(`${parsed.file} is far larger than any Safe backup.`);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Cannot read ${parsed.file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  parseSafeBackup(text, { forUpload: true });
  const password = await readPassword(io, parsed.passwordStdin, true);
  const keys = await deriveWithProgress(io, identity, password);
  io.stderr.write('Uploading the encrypted backup…\n');
  const result = await client.backup(keys, text);
  io.stderr.write(
    `Backup uploaded (${result.bytes} bytes, encrypted). The server keeps it for ${result.config.retentionDays} days after the last upload.\n`,
  );
  return EXIT.ok;
}

async function restore(parsed: Parsed, io: CliIo): Promise<number> {
  requireCommon(parsed);
  if (parsed.file)
    throw new UsageError('--file is for backup; use --out to choose where to write the restored JSON.');
  const client = new SafeClient({ server: parsed.server, credentials: serverCredentials(io) });
  const identity = normaliseSafeIdentity(parsed.identity);
  const password = await readPassword(io, parsed.passwordStdin, false);
  const keys = await deriveWithProgress(io, identity, password);
  io.stderr.write('Downloading the backup…\n');
  const { json } = await client.restore(keys);
  if (parsed.out) {
    // The backup holds the identity's private key: readable by its owner only.
    await writeFile(parsed.out, json, { mode: 0o600 });
    io.stderr.write(`Backup restored to ${parsed.out}.\n`);
  } else {
    io.stdout.write(json.endsWith('\n') ? json : `${json}\n`);
    io.stderr.write('Backup restored.\n');
  }
  return EXIT.ok;
}

/** Turns any failure into a message on stderr and the matching exit code. */
export function reportError(error: unknown, io: CliIo, help: string): number {
  if (error instanceof UsageError) {
    io.stderr.write(`switchyard: ${error.message}\nRun \`${help}\` for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof InterruptedError) {
    io.stderr.write('switchyard: interrupted.\n');
    return EXIT.interrupted;
  }
  if (error instanceof SafeError) {
    io.stderr.write(`switchyard: ${error.message}\n`);
    return EXIT_FOR[error.code];
  }
  io.stderr.write(`switchyard: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  return EXIT.failure;
}

export const safeCommand: Command = {
  name: 'safe',
  summary: 'Make and restore Threema Safe backups (backup, restore)',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    try {
      if (sub !== 'backup' && sub !== 'restore') throw new UsageError(`Unknown safe command "${sub}".`);
      const parsed = parse(rest);
      if (parsed.help) {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      return sub === 'backup' ? await backup(parsed, io) : await restore(parsed, io);
    } catch (error) {
      return reportError(error, io, 'switchyard safe --help');
    }
  },
};
