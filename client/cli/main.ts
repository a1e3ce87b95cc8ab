/**
 * The `switchyard` dispatcher: `switchyard <command> [args]`. A command is registered by adding it
 * to COMMANDS (see ./command.ts for the contract); its module is imported only when it runs, so
 * `switchyard --help` and `--version` load none of the SDK. Operator commands (invites, blocks,
 * usage, the server key) are `switchyard-ops`, in ops/: they use server code, which the client
 * never imports.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { type CliIo, type CommandEntry, EXIT } from './command.ts';

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'id',
    summary: 'Create, show, export, revoke or delete your identity',
    load: async () => (await import('./id.ts')).idCommand,
  },
  {
    name: 'lookup',
    summary: 'Look identities up: state, public key, feature mask',
    load: async () => (await import('./directory.ts')).lookupCommand,
  },
  {
    name: 'link',
    summary: 'Link an e-mail address or phone number (link, link confirm)',
    load: async () => (await import('./directory.ts')).linkCommand,
  },
  {
    name: 'unlink',
    summary: 'Remove a linked e-mail address or phone number',
    load: async () => (await import('./directory.ts')).unlinkCommand,
  },
  {
    name: 'match',
    summary: 'Find identities by e-mail addresses and phone numbers (sent as hashes)',
    load: async () => (await import('./directory.ts')).matchCommand,
  },
  {
    name: 'send',
    summary: 'Send an end-to-end encrypted text message',
    load: async () => (await import('./chat.ts')).sendCommand,
  },
  {
    name: 'listen',
    summary: 'Receive messages (prints them and acknowledges them)',
    load: async () => (await import('./chat.ts')).listenCommand,
  },
  {
    name: 'push',
    summary: 'Register, list or remove push targets for content-free wake-ups',
    load: async () => (await import('./push.ts')).pushCommand,
  },
  {
    name: 'safe',
    summary: 'Make and restore Threema Safe backups of your identity (backup, restore)',
    load: async () => (await import('./safe.ts')).safeCommand,
  },
  {
    name: 'vault',
    summary: 'Keep a key in the attempt-limited vault under a short password (store, open, delete)',
    load: async () => (await import('./vault.ts')).vaultCommand,
  },
];

/** The version of this package (package.json), for `--version`. */
export const VERSION: string = packageJson.version;

/** The top-level help of a dispatcher (`switchyard`, `switchyard-ops`). */
export function dispatcherUsage(program: string, commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return (
    `Usage: ${program} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    `Run \`${program} <command> --help\` for a command's options and exit codes;\n` +
    `\`${program} --version\` prints the version (${VERSION}).\n`
  );
}

/** Runs one invocation of a dispatcher and returns its exit code. */
export async function dispatch(
  program: string,
  commands: readonly CommandEntry[],
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(dispatcherUsage(program, commands));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout.write(`${program} ${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (!entry) {
    io.stderr.write(`${program}: unknown command "${name}".\n\n${dispatcherUsage(program, commands)}`);
    return EXIT.usage;
  }
  return (await entry.load()).run(rest, io);
}

/** Runs one CLI invocation and returns its exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return dispatch('switchyard', COMMANDS, argv, io);
}
