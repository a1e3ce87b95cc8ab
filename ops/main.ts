/**
 * The `switchyard-ops` dispatcher: `switchyard-ops <command> [args]`, the operator's tools. They
 * work on a deployment's tables and secrets with AWS credentials, or on a local runner's data
 * folder, and so use the server's own adapters; that is why they live here and not in the client
 * CLI (`switchyard`), which never imports server code. A command is registered by adding it to
 * COMMANDS (the contract is client/cli/command.ts's `Command`).
 */
import { type CliIo, type Command, EXIT, PROGRAM } from './command.ts';
import { identitiesCommand } from './identities.ts';
import { inviteCommand } from './invite.ts';
import { serverKeyCommand } from './server-key.ts';

export const COMMANDS: readonly Command[] = [inviteCommand, identitiesCommand, serverKeyCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `Usage: ${PROGRAM} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun \`${PROGRAM} <command> --help\` for a command's options.\n`;
}

/** Runs one `switchyard-ops` invocation and returns its exit code. */
export async function runOps(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    io.stdout.write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr.write(`${PROGRAM}: unknown command "${name}".\n\n${usage()}`);
    return EXIT.usage;
  }
  return command.run(rest, io);
}
