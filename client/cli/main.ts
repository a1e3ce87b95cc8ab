/**
 * The `switchyard` dispatcher: `switchyard <command> [args]`. A command is registered by adding it
 * to COMMANDS (see ./command.ts for the contract). Operator commands (invites, restore, the server
 * key) are `switchyard-ops`, in ops/: they use server code, which the client never imports.
 */
import { listenCommand, sendCommand } from './chat.ts';
import { type CliIo, type Command, EXIT } from './command.ts';
import { linkCommand, lookupCommand, matchCommand, unlinkCommand } from './directory.ts';
import { idCommand } from './id.ts';
import { safeCommand } from './safe.ts';
import { vaultCommand } from './vault.ts';

export const COMMANDS: readonly Command[] = [
  idCommand,
  lookupCommand,
  linkCommand,
  unlinkCommand,
  matchCommand,
  sendCommand,
  listenCommand,
  safeCommand,
  vaultCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `Usage: switchyard <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`switchyard <command> --help\` for a command's options.\n`;
}

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr.write(`switchyard: unknown command "${name}".\n\n${usage()}`);
    return EXIT.usage;
  }
  return command.run(rest, io);
}
