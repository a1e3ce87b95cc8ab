/**
 * Where an operator command works: a local runner (its data folder's runner.json names the
 * DynamoDB endpoint and the tables) or a deployment on AWS (the tables' physical names, the usual
 * AWS credentials and Region). Shared by the commands that read or write tables, with the one way
 * they report what went wrong.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localTableName, type TableName } from '../contract/schema.ts';
import {
  type AwsClients,
  createClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from '../lambdas/runtime/clients.ts';
import { type CliIo, EXIT, PROGRAM, UsageError } from './command.ts';

export interface TablesTarget {
  readonly local: boolean;
  /** Physical names of the tables the command needs. */
  readonly tables: Readonly<Record<TableName, string>>;
  readonly endpoint?: string;
  readonly region?: string;
}

/** The option that names a table on AWS: `--identities-table`, `--ephemeral-table`, … */
const tableOption = (table: TableName) => `${table}-table`;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** The help lines of the target options for `tables`. */
export function targetHelp(tables: readonly TableName[]): string {
  const width = Math.max(...tables.map((t) => tableOption(t).length)) + 8;
  return [
    '  --data-dir DIR'.padEnd(width + 4) +
      'A local runner: its data folder (default $DATA_DIR or ./.data), whose runner.json',
    `${' '.repeat(width + 4)}names the DynamoDB endpoint and the tables.`,
    ...tables.map(
      (t) =>
        `  --${tableOption(t)} NAME`.padEnd(width + 4) +
        `AWS: the deployment's ${t} table (a resource of the stateful stack).`,
    ),
    '  --region REGION'.padEnd(width + 4) + 'AWS: the Region (default: from the AWS configuration).',
  ].join('\n');
}

/** Parses the target options for `tables` plus `extra`; returns the other values and the target. */
export function parseTarget(
  args: readonly string[],
  io: CliIo,
  tables: readonly TableName[],
  extra: Record<string, { type: 'string' | 'boolean'; short?: string }> = {},
  aliases: Partial<Record<string, TableName>> = {},
): {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** undefined for --help; else resolves the target (throws when no local runner is found). */
  target?: () => TablesTarget;
} {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        ...extra,
        'data-dir': { type: 'string' },
        region: { type: 'string' },
        ...Object.fromEntries(tables.map((t) => [tableOption(t), { type: 'string' }])),
        ...Object.fromEntries(Object.keys(aliases).map((alias) => [alias, { type: 'string' }])),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }) as typeof parsed;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { values, positionals };
  const named = (t: TableName) => {
    const alias = Object.entries(aliases).find(([, table]) => table === t)?.[0];
    const value = values[tableOption(t)] ?? (alias ? values[alias] : undefined);
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const given = tables.filter((t) => named(t) !== undefined);
  const region = typeof values.region === 'string' ? values.region.trim() : undefined;
  if (given.length > 0) {
    if (values['data-dir'] !== undefined)
      throw new UsageError('Give the tables (AWS) or --data-dir (local), not both.');
    const missing = tables.filter((t) => !given.includes(t));
    if (missing.length > 0)
      throw new UsageError(
        `On AWS, name every table it needs: ${missing.map((t) => `--${tableOption(t)}`).join(', ')}.`,
      );
    for (const t of tables) {
      if (!TABLE_NAME.test(named(t)!))
        throw new UsageError(`--${tableOption(t)} must be a DynamoDB table name.`);
    }
    const names = Object.fromEntries(tables.map((t) => [t, named(t)!])) as Record<TableName, string>;
    return {
      values,
      positionals,
      target: () => ({ local: false, tables: names, ...(region ? { region } : {}) }),
    };
  }
  if (region !== undefined) throw new UsageError('--region goes with the table names (AWS).');
  return { values, positionals, target: () => localTarget(values, io, tables) };
}

/** The local runner in the data folder (--data-dir, $DATA_DIR, ./.data), by its runner.json. */
function localTarget(
  values: Record<string, string | boolean | undefined>,
  io: CliIo,
  tables: readonly TableName[],
): TablesTarget {
  const dataDir = resolve(
    typeof values['data-dir'] === 'string' ? values['data-dir'] : io.env.DATA_DIR?.trim() || '.data',
  );
  let running: { endpoints?: { dynamodb?: unknown }; tables?: Partial<Record<TableName, unknown>> } = {};
  try {
    running = JSON.parse(readFileSync(join(dataDir, 'runner.json'), 'utf8'));
  } catch {
    // No runner.json: no runner in that folder.
  }
  const endpoint = running.endpoints?.dynamodb;
  if (typeof endpoint !== 'string') throw new NoRunnerError();
  // The runner names its tables in runner.json (a runner may prefix them); older ones did not.
  const names = Object.fromEntries(
    tables.map((t) => {
      const name = running.tables?.[t];
      return [t, typeof name === 'string' ? name : localTableName(t)];
    }),
  ) as Record<TableName, string>;
  return { local: true, tables: names, endpoint };
}

/** The SDK clients for a target. */
export function targetClients(target: TablesTarget): AwsClients {
  return target.local
    ? createClients({
        endpoints: { dynamodb: target.endpoint! },
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 2,
      })
    : createClients(target.region ? { region: target.region } : {});
}

class NoRunnerError extends Error {}

/**
 * Runs a command body against its target's clients (destroyed afterwards), turning failures into a
 * message and an exit code: usage 2, no local runner 5, a table that refused 1.
 */
export async function runOnTarget(
  io: CliIo,
  helpCommand: string,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${PROGRAM}: ${error.message}\nRun \`${helpCommand}\` for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof NoRunnerError) {
      io.stderr.write(
        `${PROGRAM}: no running local runner in the data folder (its runner.json is missing). ` +
          'Start one with `npm start`, point --data-dir at its folder, or name the tables for AWS.\n',
      );
      return EXIT.unreachable;
    }
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    io.stderr.write(
      `${PROGRAM}: the table refused (${cause?.name ?? 'error'}: ${cause?.message ?? String((error as Error)?.message ?? error)}). ` +
        'Check the table names, the Region and your AWS credentials (or that the local runner still runs).\n',
    );
    return EXIT.failure;
  }
}
