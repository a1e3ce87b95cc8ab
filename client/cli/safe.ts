/**
 * `switchyard safe backup|restore`: Threema Safe backups of the identity, on the Safe of the
 * Switchyard server the other commands talk to (`--server`, `$SWITCHYARD_SERVER`: its `safe/`), or
 * on any Threema-compatible Safe server (`--safe-url`). A backup is made from the identity file, or
 * uploaded from a backup JSON; a restore prints the JSON, writes it to a file, or writes the
 * identity file again.
 */
import { rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { KeyFileError, readIdentityFilePublic, saveIdentityFile } from '../keyfile.ts';
import { SafeClient, type ServerCredentials } from '../safe/client.ts';
import { SafeError, type SafeErrorCode } from '../safe/errors.ts';
import { encodeSafeBackup, parseSafeBackup } from '../safe/format.ts';
import { BackupKeyError, identityBackup, keysFromBackup } from '../safe/identity.ts';
import { checkSafePassword, deriveSafeKeys, normaliseSafeIdentity, type SafeKeys } from '../safe/keys.ts';
import { protectSafeBackup, restoreProtectedSafeBackup } from '../vault/safe.ts';
import { type CliIo, type Command, EXIT, exitCodesHelp, UsageError } from './command.ts';
import {
  claimIdentityFile,
  commonOptionsHelp,
  DEFAULT_IDENTITY_FILE,
  DIRECTORY_EXITS,
  ENV_IDENTITY_FILE,
  IDENTITY_EXITS,
  Invocation,
  reportDirectoryError,
} from './directory-common.ts';
import { promptHidden } from './prompt.ts';
import { reportVaultError, vaultAttempt, vaultClient, vaultPassword, vaultTries } from './vault.ts';

export const ENV_SAFE_SERVER_AUTH = 'SWITCHYARD_SAFE_SERVER_AUTH';

const HELP = `Usage:
  switchyard safe backup  [--password-stdin]                      the identity file
  switchyard safe backup  --file backup.json --identity ID [--password-stdin]
  switchyard safe restore [--identity ID] [--out FILE | --write-identity] [--password-stdin]
  switchyard safe backup  --vault [--tries N] [--file backup.json] [--password-stdin]
  switchyard safe restore --vault [--identity ID --email ADDRESS | --phone NUMBER]
                          [--out FILE | --write-identity] [--password-stdin]

Makes or restores a Threema Safe backup, encrypted on this machine: the server only ever sees a
name derived from ID and password, and encrypted bytes. The Safe password is asked for on the
terminal (twice for a backup), or read from stdin with --password-stdin.

backup without --file backs up the identity file (--identity-file): its ID and secret key, in the
Threema apps' format, which the browser client and \`safe restore --write-identity\` read back.
restore prints the backup's JSON, writes it to --out, or with --write-identity writes the identity
file (--identity-file; never overwrites one, asks for a passphrase as \`id create\` does) after
checking that the backup holds the key the directory has for the ID.

--vault protects the backup with a short password instead (docs/SAFE.md, "Protected by the
vault"): a random key names and encrypts the backup, and the key goes into the server's vault under
the password, which allows --tries wrong passwords (default ${LIMITS.vaultMaxTries}) before the vault is deleted for good.
The backup's name then tells nothing about the password. Threema apps cannot read such a backup; use
a plain Safe backup for them. It needs the identity file, and an e-mail address or phone number
linked to the identity that the server sends codes to. Restoring with --vault opens the vault (one
try), with the identity file's key, or with --email/--phone (and --identity) after a code sent there.

Options:
  --identity ID       The ID (8 characters). Default: the identity file's. Needed with --file, and
                      for restore when there is no identity file.
  --file PATH         backup: upload this backup JSON (Threema Safe format, version 1) instead.
  --out PATH          restore: write the JSON here (mode 0600) instead of printing it.
  --write-identity    restore: write the identity file from the backup.
  --password-stdin    Read the Safe (or vault) password from stdin (after the identity file's
                      passphrase); with --email/--phone the code follows on the next line.
  --vault             Protect the backup with the vault, or restore one protected so.
  --tries N           --vault backup: wrong passwords the vault allows (1–${LIMITS.vaultMaxTries}).
  --email, --phone    --vault restore: the linked address a code for the attempt is sent to.
  --safe-url URL      Another Threema-compatible Safe server's base URL instead of --server's
                      \`safe/\` (http:// only for localhost). For Basic auth put the credentials in
                      the URL (https://user:pass@host/...) or set $${ENV_SAFE_SERVER_AUTH}=user:pass.

${commonOptionsHelp({ identityFile: true, writesIdentityFile: true })}
${exitCodesHelp([
  ...DIRECTORY_EXITS,
  ...IDENTITY_EXITS,
  EXIT.noBackup,
  EXIT.unauthorized,
  EXIT.invalidBackup,
  EXIT.notFound,
  EXIT.codeInvalid,
  EXIT.notSupported,
])}`;

const OPTIONS = {
  identity: { type: 'string' },
  file: { type: 'string' },
  out: { type: 'string' },
  'write-identity': { type: 'boolean' },
  'password-stdin': { type: 'boolean' },
  'safe-url': { type: 'string' },
  vault: { type: 'boolean' },
  tries: { type: 'string' },
  email: { type: 'string' },
  phone: { type: 'string' },
} as const;

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

function serverCredentials(io: CliIo): ServerCredentials | undefined {
  const raw = io.env[ENV_SAFE_SERVER_AUTH];
  if (!raw) return undefined;
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError(`${ENV_SAFE_SERVER_AUTH} must be user:password.`);
  return { username: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

/** The Safe client: --safe-url, or the Safe of --server (`safe/` under the HTTP API base). */
function safeClient(run: Invocation): SafeClient {
  const base = run.server.endsWith('/') ? run.server : `${run.server}/`;
  let server = run.string('safe-url');
  if (server === undefined) {
    try {
      server = new URL('safe/', base).toString();
    } catch {
      throw new UsageError('--server must be an https:// URL (http:// only for localhost).');
    }
  }
  return new SafeClient({ server, credentials: serverCredentials(run.io) });
}

async function readPassword(run: Invocation, confirm: boolean): Promise<string> {
  const password = run.flag('password-stdin')
    ? await run.stdinSecret('the Safe password')
    : await promptHidden('Safe password: ', run.io);
  checkSafePassword(password);
  if (confirm && !run.flag('password-stdin')) {
    if ((await promptHidden('Repeat the Safe password: ', run.io)) !== password)
      throw new UsageError('The two passwords differ. Nothing was uploaded.');
  }
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

/** The ID given with --identity, or the identity file's (read without its passphrase). */
function identityOf(run: Invocation): string {
  const given = run.string('identity');
  if (given !== undefined) return normaliseSafeIdentity(given);
  try {
    return readIdentityFilePublic(run.identityFile).identity;
  } catch (error) {
    if (error instanceof KeyFileError && error.problem === 'missing') {
      throw new UsageError(
        `Give --identity ID, or an identity file (--identity-file, $${ENV_IDENTITY_FILE}, default ${DEFAULT_IDENTITY_FILE}).`,
      );
    }
    throw error;
  }
}

async function backup(run: Invocation): Promise<number> {
  if (run.string('out') !== undefined || run.flag('write-identity'))
    throw new UsageError('--out and --write-identity are for restore.');
  // Everything that can be checked without the password is checked before asking for it.
  const client = safeClient(run);
  const file = run.string('file');
  const vaulted = run.flag('vault');
  if (!vaulted && ['tries', 'email', 'phone'].some((option) => run.string(option) !== undefined))
    throw new UsageError('--tries, --email and --phone go with --vault.');
  const tries = vaulted ? vaultTries(run) : 0;
  let text: string;
  let identity: string;
  // The vault's store proves possession of the identity's key: --vault always needs the file.
  const me = file === undefined || vaulted ? await run.identity() : undefined;
  if (file === undefined) {
    if (me === undefined) throw new UsageError('An identity file is needed.');
    if (
      run.string('identity') !== undefined &&
      normaliseSafeIdentity(run.string('identity')!) !== me.identity
    )
      throw new UsageError("--identity is not the identity file's ID (leave it out to back up the file).");
    identity = me.identity;
    text = encodeSafeBackup(identityBackup(me, { device: 'Switchyard CLI' }));
  } else {
    if (run.string('identity') === undefined) throw new UsageError('--identity ID is required with --file.');
    identity = normaliseSafeIdentity(run.string('identity')!);
    try {
      const bytes = await readFile(file);
      if (bytes.length > MAX_FILE_BYTES) throw new UsageError(`${file} is far larger than any Safe backup.`);
      text = bytes.toString('utf8');
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`Cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    parseSafeBackup(text, { forUpload: true });
  }
  if (vaulted && me !== undefined) {
    if (me.identity !== identity)
      throw new UsageError("--vault keeps the key under the identity file's ID: --identity must be that ID.");
    const password = await vaultPassword(run, true);
    run.io.stderr.write('Uploading the encrypted backup and storing its key in the vault…\n');
    const result = await protectSafeBackup(
      { vault: vaultClient(run), safe: client },
      { identity, secretKey: me.keys.secretKey, password, backup: text, tries },
    );
    run.io.stderr.write(
      `Backup uploaded (${result.bytes} bytes, encrypted) and protected by the vault: ${tries} wrong password${tries === 1 ? '' : 's'} allowed. The server keeps it for ${result.config.retentionDays} days after the last upload.\n`,
    );
    return EXIT.ok;
  }
  const password = await readPassword(run, true);
  const keys = await deriveWithProgress(run.io, identity, password);
  run.io.stderr.write('Uploading the encrypted backup…\n');
  const result = await client.backup(keys, text);
  run.io.stderr.write(
    `Backup uploaded (${result.bytes} bytes, encrypted). The server keeps it for ${result.config.retentionDays} days after the last upload.\n`,
  );
  return EXIT.ok;
}

async function restore(run: Invocation): Promise<number> {
  if (run.string('file') !== undefined)
    throw new UsageError('--file is for backup; use --out to choose where to write the restored JSON.');
  const out = run.string('out');
  const writeIdentity = run.flag('write-identity');
  if (out !== undefined && writeIdentity) throw new UsageError('Choose one of --out and --write-identity.');
  const vaulted = run.flag('vault');
  const byCode = (run.string('email') ?? run.string('phone')) !== undefined;
  if (run.string('tries') !== undefined) throw new UsageError('--tries is for backup --vault.');
  if (!vaulted && byCode) throw new UsageError('--email and --phone go with --vault.');
  if (vaulted && writeIdentity && !byCode)
    throw new UsageError(
      '--write-identity --vault needs --identity and --email or --phone: the identity file cannot prove the attempt, it is what is restored.',
    );
  const client = safeClient(run);
  const identity = identityOf(run);
  // Claim the identity file's path first: a restore that can't be written is not worth a scrypt.
  const path = run.identityFile;
  if (writeIdentity) claimIdentityFile(path);
  let written = false;
  try {
    const passphrase = writeIdentity ? await run.newPassphrase() : undefined;
    const { json, backup: restored } = vaulted
      ? await restoreVaulted(run, client, identity)
      : await restorePlain(run, client, identity);
    if (writeIdentity) {
      const entry = await run.client().lookup(identity as IdentityId);
      const file = { identity: identity as IdentityId, keys: keysFromBackup(restored, entry?.publicKey) };
      await saveIdentityFile(path, file, { overwrite: true, ...(passphrase ? { passphrase } : {}) });
      written = true;
      run.io.stderr.write(
        `Identity restored to the identity file (readable by you only${passphrase ? ', encrypted with your passphrase' : ', not encrypted'}).\n`,
      );
    } else if (out !== undefined) {
      // The backup holds the identity's private key: readable by its owner only.
      await writeFile(out, json, { mode: 0o600 });
      run.io.stderr.write(`Backup restored to ${out}.\n`);
    } else {
      run.io.stdout.write(json.endsWith('\n') ? json : `${json}\n`);
      run.io.stderr.write('Backup restored.\n');
    }
    return EXIT.ok;
  } finally {
    if (writeIdentity && !written) rmSync(path, { force: true });
  }
}

async function restorePlain(run: Invocation, client: SafeClient, identity: string) {
  const password = await readPassword(run, false);
  const keys = await deriveWithProgress(run.io, identity, password);
  run.io.stderr.write('Downloading the backup…\n');
  return client.restore(keys);
}

/** Opens the vault (one try), then restores the backup its key names. */
async function restoreVaulted(run: Invocation, client: SafeClient, identity: string) {
  const vault = vaultClient(run);
  const attempt = await vaultAttempt(run, vault);
  if (attempt.identity !== identity) throw new UsageError("--identity is not the identity file's ID.");
  run.io.stderr.write('Opening the vault and downloading the backup…\n');
  return restoreProtectedSafeBackup({ vault, safe: client }, attempt);
}

/** Turns any failure into a message on stderr and the matching exit code. */
function reportError(error: unknown, io: CliIo): number {
  const vaultExit = reportVaultError(error, io);
  if (vaultExit !== undefined) return vaultExit;
  if (error instanceof SafeError) {
    io.stderr.write(`switchyard: ${error.message}\n`);
    return EXIT_FOR[error.code];
  }
  if (error instanceof BackupKeyError) {
    io.stderr.write(`switchyard: ${error.message} Nothing was written.\n`);
    return error.reason === 'not_active' ? EXIT.notFound : EXIT.keyRefused;
  }
  return reportDirectoryError(error, io, 'switchyard safe --help');
}

export const safeCommand: Command = {
  name: 'safe',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    try {
      if (sub !== 'backup' && sub !== 'restore') throw new UsageError(`Unknown safe command "${sub}".`);
      const run = Invocation.parse(rest, io, OPTIONS);
      if (run.help) {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      run.expectPositionals(0, '');
      return sub === 'backup' ? await backup(run) : await restore(run);
    } catch (error) {
      return reportError(error, io);
    }
  },
};
