/**
 * What every `switchyard` subcommand is: a name and a `run` that gets its own arguments and the
 * process's streams and returns an exit code; the dispatcher knows it by a `CommandEntry` (name,
 * one-line summary, and how to load it), so `--help` loads no command's code. Commands never call
 * `process.exit` and never touch `process.*` directly, so tests can drive them.
 */
import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Command {
  readonly name: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** A command as the dispatcher lists it: loaded (with its dependencies) only when it runs. */
export interface CommandEntry {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * Exit codes, one per thing the user would do differently. Shared by all commands so that scripts
 * can rely on them; add new ones at the end.
 */
export const EXIT = {
  ok: 0,
  /** Something unexpected; the message says what. */
  failure: 1,
  /** Wrong or missing arguments, unreadable input file, no terminal to prompt on. */
  usage: 2,
  wrongPassword: 3,
  noBackup: 4,
  unreachable: 5,
  tooLarge: 6,
  /** The server needs (other) HTTP Basic credentials. */
  unauthorized: 7,
  rateLimited: 8,
  /** The backup JSON is not a Threema Safe backup, or is a newer version. */
  invalidBackup: 9,
  /** The server answered in an unexpected way. */
  serverError: 10,
  /** Directory: no usable identity file (missing, damaged) at --identity-file. */
  noIdentity: 11,
  /** Directory: the server registers only with an invite, and none (or a used/expired one) was given. */
  inviteRequired: 12,
  /** Directory: the identity is unknown, revoked or deleted. */
  notFound: 13,
  /** Directory: revocation refused (wrong password, none set, or unknown identity). */
  revocationRefused: 14,
  /** Directory: the verification code is wrong, expired or out of tries. */
  codeInvalid: 15,
  /** Directory: the server does not link this kind of address (no code delivery configured). */
  notSupported: 16,
  /** Directory: the server refused the identity file's proof of key possession. */
  keyRefused: 17,
  /** Chat: the server did not prove the pinned server key. */
  serverKeyMismatch: 18,
  /** Ctrl-C at a prompt. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each exit code means, as every command's `--help` lists it. */
const EXIT_WORDS: Readonly<Record<ExitCode, string>> = {
  0: 'ok',
  1: 'unexpected',
  2: 'usage (or confirmation declined)',
  3: 'wrong passphrase or password',
  4: 'no backup',
  5: 'server unreachable',
  6: 'too large',
  7: 'server needs other credentials',
  8: 'rate limited',
  9: 'not a valid backup',
  10: 'server error',
  11: 'no usable identity file',
  12: 'invite required',
  13: 'unknown or revoked identity',
  14: 'revocation refused',
  15: 'code invalid',
  16: 'linking not supported',
  17: 'key refused by the server',
  18: 'wrong server key',
  130: 'interrupted',
};

/** The `Exit codes:` block of a command's help: 0, 1 and 2 always, then `codes`, in order. */
export function exitCodesHelp(codes: readonly ExitCode[]): string {
  const all = [...new Set<ExitCode>([EXIT.ok, EXIT.failure, EXIT.usage, ...codes])];
  const items = all.sort((a, b) => a - b).map((code) => `${code} ${EXIT_WORDS[code]}`);
  const lines: string[] = [];
  for (const item of items) {
    const last = lines.length - 1;
    if (last >= 0 && `${lines[last]} · ${item}`.length <= 96) lines[last] = `${lines[last]} · ${item}`;
    else lines.push(`  ${item}`);
  }
  return `Exit codes:\n${lines.join('\n')}\n`;
}

/** A mistake in how the command was called; printed with a pointer to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The user pressed Ctrl-C at a prompt. */
export class InterruptedError extends Error {
  constructor() {
    super('Interrupted.');
    this.name = 'InterruptedError';
  }
}
