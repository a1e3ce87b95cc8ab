/**
 * What the `switchyard-ops` commands share. The command contract (`Command`, `CliIo`), the exit
 * codes and `UsageError` are the client CLI's own (client/cli/command.ts), so an exit code means
 * the same thing to a script whichever of the two tools it runs; ops may import the client, never
 * the other way round.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CliIo, EXIT } from '../client/cli/command.ts';

export {
  type CliIo,
  type Command,
  type CommandEntry,
  EXIT,
  exitCodesHelp,
  UsageError,
} from '../client/cli/command.ts';

/** The executable's name, the prefix of every message it prints. */
export const PROGRAM = 'switchyard-ops';

/**
 * Parses a command's options (strict, no positionals, `-h`/`--help` added). Returns the values, or
 * the exit code after printing: the help (0), or the mistake followed by the help (usage).
 */
export function parseOptions<T extends ParseArgsConfig['options']>(
  args: readonly string[],
  options: T,
  io: CliIo,
  help: string,
): Record<string, string | boolean | undefined> | number {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.stderr.write(`${PROGRAM}: ${(error as Error).message}\n${help}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout.write(help);
    return EXIT.ok;
  }
  return values as Record<string, string | boolean | undefined>;
}
