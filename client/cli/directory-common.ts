/**
 * What the directory commands (`id`, `lookup`, `link`, `unlink`, `match`) share: the global options
 * (`--server`, `--identity-file`, passphrase handling), reading the identity file, secrets from stdin
 * or a prompt, and turning every failure into a message and an exit code. Messages never repeat an
 * identity, key, hash or address: the user knows what they typed, and terminals get logged.
 */
import { closeSync, openSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ContactKind, isContactKind, normaliseContact } from '../../protocol/contacts.ts';
import { FEATURE_MASK_MAX, type IdentityId, isIdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { DirectoryClient, DirectoryError } from '../directory/client.ts';
import { type IdentityFile, KeyFileError, loadIdentityFile, readIdentityFilePublic } from '../keyfile.ts';
import { type CliIo, EXIT, InterruptedError, UsageError } from './command.ts';
import { promptHidden, promptLine } from './prompt.ts';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080/';
export const DEFAULT_IDENTITY_FILE = './switchyard-identity.json';
export const ENV_SERVER = 'SWITCHYARD_SERVER';
export const ENV_IDENTITY_FILE = 'SWITCHYARD_IDENTITY_FILE';

/** Exit codes of every command that talks to the directory. */
export const DIRECTORY_EXITS = [EXIT.unreachable, EXIT.tooLarge, EXIT.rateLimited, EXIT.serverError] as const;
/** …and of every command that also reads the identity file (asking for its passphrase) and proves its key. */
export const IDENTITY_EXITS = [
  EXIT.wrongPassword,
  EXIT.noIdentity,
  EXIT.keyRefused,
  EXIT.interrupted,
] as const;

/**
 * The common options a command's help lists: `--server` always; the identity file's options only
 * for commands that read it (`identityFile`), `--no-passphrase` only for those that write one.
 */
export function commonOptionsHelp(uses: { identityFile: boolean; writesIdentityFile?: boolean }): string {
  const lines = [
    'Common options:',
    `  --server URL           The HTTP API base URL (default ${DEFAULT_SERVER}, or $${ENV_SERVER});`,
    '                         https:// except for localhost.',
  ];
  if (uses.identityFile || uses.writesIdentityFile) {
    lines.push(
      `  --identity-file PATH   The identity file (default ${DEFAULT_IDENTITY_FILE}, or $${ENV_IDENTITY_FILE}).`,
      "  --passphrase-stdin     Read the identity file's passphrase from stdin instead of a prompt.",
    );
  }
  if (uses.writesIdentityFile) {
    lines.push(
      '  --no-passphrase        Store the new secret key unencrypted (the file is still mode 0600).',
    );
  }
  lines.push('  -h, --help             Show this help.');
  if (uses.identityFile || uses.writesIdentityFile) {
    lines.push(
      '',
      'Secrets on stdin go one per line: when a command needs two (the passphrase and a password),',
      'the passphrase comes first.',
    );
  }
  return `${lines.join('\n')}\n`;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

const COMMON_OPTIONS: Record<string, OptionSpec> = {
  server: { type: 'string' },
  'identity-file': { type: 'string' },
  'passphrase-stdin': { type: 'boolean' },
  'no-passphrase': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export type Values = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** One parsed invocation of a directory command. */
export class Invocation {
  private stdinLines: string[] | undefined;

  constructor(
    readonly io: CliIo,
    readonly values: Values,
    readonly positionals: readonly string[],
  ) {}

  /** Parses `args` with the common options plus `extra`; unknown options are usage errors. */
  static parse(args: readonly string[], io: CliIo, extra: Record<string, OptionSpec> = {}): Invocation {
    try {
      const { values, positionals } = parseArgs({
        args: [...args],
        options: { ...COMMON_OPTIONS, ...extra },
        strict: true,
        allowPositionals: true,
      });
      return new Invocation(io, values as Values, positionals);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }

  get help(): boolean {
    return this.values.help === true;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  list(name: string): string[] {
    const value = this.values[name];
    const raw = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    return raw
      .flatMap((entry) => entry.split(','))
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }

  /** Exactly `count` positional arguments, named in the usage error. */
  expectPositionals(count: number, what: string): readonly string[] {
    if (this.positionals.length !== count)
      throw new UsageError(count === 0 ? `Unexpected argument(s).` : `Expected ${what}.`);
    return this.positionals;
  }

  get server(): string {
    return this.string('server') ?? (this.io.env[ENV_SERVER] || DEFAULT_SERVER);
  }

  get identityFile(): string {
    return this.string('identity-file') ?? (this.io.env[ENV_IDENTITY_FILE] || DEFAULT_IDENTITY_FILE);
  }

  /** The SDK client for --server; a URL it refuses is a usage error. */
  client(): DirectoryClient {
    try {
      return new DirectoryClient({ server: this.server });
    } catch {
      throw new UsageError('--server must be an https:// URL (http:// only for localhost).');
    }
  }

  /** The next secret from stdin: all of stdin is read once, one secret per line. */
  async stdinSecret(what: string): Promise<string> {
    if (!this.stdinLines) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of this.io.stdin) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
        size += buffer.length;
        if (size > 64 * 1024) throw new UsageError('The input on stdin is far too long.');
        chunks.push(buffer);
      }
      this.stdinLines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    }
    const line = this.stdinLines.shift();
    if (line === undefined || line === '') throw new UsageError(`Expected ${what} on stdin, one per line.`);
    return line;
  }

  /** Reads the identity file, asking for its passphrase when it is encrypted. */
  async identity(): Promise<IdentityFile> {
    const path = this.identityFile;
    const { encrypted } = readIdentityFilePublic(path);
    if (!encrypted) return loadIdentityFile(path);
    if (this.flag('no-passphrase'))
      throw new UsageError('The identity file is encrypted: leave out --no-passphrase.');
    const passphrase = this.flag('passphrase-stdin')
      ? await this.stdinSecret("the identity file's passphrase")
      : await promptHidden(
          'Passphrase of the identity file: ',
          this.io,
          'The identity file is encrypted and there is no terminal to ask for its passphrase on. ' +
            'Pipe it in and add --passphrase-stdin.',
        );
    return loadIdentityFile(path, passphrase);
  }

  /** The passphrase for a new identity file, or undefined for an unencrypted one. */
  async newPassphrase(): Promise<string | undefined> {
    if (this.flag('no-passphrase')) {
      if (this.flag('passphrase-stdin'))
        throw new UsageError('Choose one of --passphrase-stdin and --no-passphrase.');
      return undefined;
    }
    if (this.flag('passphrase-stdin')) return this.stdinSecret('a passphrase for the identity file');
    const noTerminal =
      'No terminal to ask for a passphrase on: pipe one in with --passphrase-stdin, ' +
      'or add --no-passphrase to store the key unencrypted.';
    const passphrase = await promptHidden(
      'Passphrase for the identity file (empty: not encrypted): ',
      this.io,
      noTerminal,
    );
    if (passphrase === '') return undefined;
    if ((await promptHidden('Repeat the passphrase: ', this.io, noTerminal)) !== passphrase)
      throw new UsageError('The two passphrases differ. Nothing was created.');
    return passphrase;
  }

  /** Asks for a yes unless --yes was given; without a terminal, --yes is required. */
  async confirm(question: string): Promise<void> {
    if (this.flag('yes')) return;
    const answer = await promptLine(
      `${question} [y/N] `,
      this.io,
      'No terminal to ask for confirmation on: add --yes.',
    );
    if (!/^y(es)?$/i.test(answer)) throw new DeclinedError();
  }
}

/**
 * Claims `path` for a new identity file (an empty file, mode 0600) before anything is registered or
 * restored, so an identity never ends up without a place for its key; never takes an existing file.
 */
export function claimIdentityFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'EEXIST'
        ? 'An identity file already exists at this path, and it is never overwritten. ' +
            'Choose another --identity-file.'
        : `Cannot create the identity file at this path (${code ?? 'error'}).`,
    );
  }
}

/** The user answered no to a confirmation: nothing to fix in how the command was called. */
export class DeclinedError extends Error {
  constructor() {
    super('Not confirmed. Nothing was changed.');
    this.name = 'DeclinedError';
  }
}

/** An identity typed by the user (any case); the message never repeats it. */
export function identityArgument(value: string, position: string): IdentityId {
  const id = value.trim().toUpperCase();
  if (!isIdentityId(id))
    throw new UsageError(`The ${position} is not a Switchyard ID (8 characters, 0-9 and A-Z).`);
  return id;
}

export function kindArgument(value: string | undefined): ContactKind {
  if (!isContactKind(value)) throw new UsageError('Say which kind of address: email or phone.');
  return value;
}

/** Checks an address locally, so a typo is a usage error and never reaches the server. */
export function checkAddress(kind: ContactKind, value: string, where: string): void {
  try {
    normaliseContact(kind, value);
  } catch {
    throw new UsageError(
      kind === 'email'
        ? `${where} is not an e-mail address.`
        : `${where} is not a phone number in international form (e.g. +41 79 123 45 67).`,
    );
  }
}

/** `--feature-mask`: decimal or 0x-hex, 0 to 0xffff. */
export function featureMaskArgument(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const mask = /^0x[0-9a-f]{1,4}$/i.test(text)
    ? Number.parseInt(text.slice(2), 16)
    : /^[0-9]{1,5}$/.test(text)
      ? Number(text)
      : Number.NaN;
  if (!(mask >= 0 && mask <= FEATURE_MASK_MAX))
    throw new UsageError(`--feature-mask must be a number from 0 to ${FEATURE_MASK_MAX} (or 0x0 to 0xffff).`);
  return mask;
}

/** A revocation password within the server's bounds. */
export function checkRevocationPassword(password: string): void {
  // Counted as the server counts (UTF-16 code units), so what passes here passes there.
  if (
    password.length < LIMITS.revocationPasswordMinChars ||
    password.length > LIMITS.revocationPasswordMaxChars
  ) {
    throw new UsageError(
      `A revocation password has ${LIMITS.revocationPasswordMinChars} to ${LIMITS.revocationPasswordMaxChars} characters.`,
    );
  }
}

export const formatMask = (mask: number | undefined): string =>
  `0x${(mask ?? 0).toString(16).padStart(4, '0')}`;

const DIRECTORY_MESSAGES: Record<string, [exit: number, message: string]> = {
  unreachable: [EXIT.unreachable, 'The server could not be reached. Check --server and that it is running.'],
  rate_limited: [EXIT.rateLimited, 'The server is rate-limiting these requests. Try again later.'],
  invite_required: [
    EXIT.inviteRequired,
    'This server registers new identities only with an invite, and the invite given (if any) is ' +
      'unknown, used or expired. Ask the operator for one and pass --invite TOKEN.',
  ],
  not_found: [EXIT.notFound, 'That identity is unknown to the server, revoked or deleted.'],
  revocation_failed: [
    EXIT.revocationRefused,
    'Revocation refused: the password is wrong, none was set, or the identity is unknown. ' +
      'Attempts are limited per day.',
  ],
  code_invalid: [
    EXIT.codeInvalid,
    'The verification code is wrong, expired or was tried too often. Start again with `switchyard link`.',
  ],
  not_supported: [
    EXIT.notSupported,
    'This server does not link e-mail addresses or phone numbers of this kind (no code delivery configured).',
  ],
  proof_invalid: [
    EXIT.keyRefused,
    "The server refused this identity file's key. Is the identity file for this server?",
  ],
  challenge_invalid: [EXIT.keyRefused, "The server's challenge expired or was already used. Try again."],
  too_large: [EXIT.tooLarge, 'The request is larger than the server accepts.'],
  bad_request: [EXIT.usage, 'The server refused the request as malformed. Check the arguments.'],
};

const KEY_FILE_EXIT: Record<KeyFileError['problem'], number> = {
  missing: EXIT.noIdentity,
  damaged: EXIT.noIdentity,
  passphrase_needed: EXIT.usage,
  wrong_passphrase: EXIT.wrongPassword,
};

/** Turns any failure into one line on stderr and the matching exit code. */
export function reportDirectoryError(error: unknown, io: CliIo, help: string): number {
  if (error instanceof DeclinedError) {
    io.stderr.write(`switchyard: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`switchyard: ${error.message}\nRun \`${help}\` for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof InterruptedError) {
    io.stderr.write('switchyard: interrupted.\n');
    return EXIT.interrupted;
  }
  if (error instanceof KeyFileError) {
    const hint =
      error.problem === 'missing'
        ? ' Create one with `switchyard id create`, or point --identity-file at yours.'
        : '';
    io.stderr.write(`switchyard: ${error.message}${hint}\n`);
    return KEY_FILE_EXIT[error.problem];
  }
  if (error instanceof DirectoryError) {
    const [exit, message] = DIRECTORY_MESSAGES[error.code] ?? [
      EXIT.serverError,
      `The server failed to answer (${error.code}, HTTP ${error.status}). Try again later.`,
    ];
    io.stderr.write(`switchyard: ${message}\n`);
    return exit;
  }
  io.stderr.write(`switchyard: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  return EXIT.failure;
}

/** Runs a command body, turning whatever it throws into a message and an exit code. */
export async function runReported(
  io: CliIo,
  helpCommand: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    return reportDirectoryError(error, io, helpCommand);
  }
}
