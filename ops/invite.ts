/**
 * `switchyard-ops invite create`: the operator issues an invite for a deployment with invite-only
 * registration. The invite's digest goes straight into the `ephemeral` table with the AWS SDK (there
 * is no HTTP route for it on purpose: only whoever holds the deployment's AWS credentials, or the
 * local runner's data folder, can issue invites). It reuses the server's own `issueInvite` and
 * adapter, so the token format and its storage stay one piece of code.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localTableName } from '../contract/schema.ts';
import { dynamoEphemeralStore } from '../lambdas/adapters/ephemeral.ts';
import { epochSeconds, systemClock, systemRandom } from '../lambdas/domain/clock.ts';
import { issueInvite } from '../lambdas/domain/directory.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { LIMITS } from '../protocol/limits.ts';
import { type CliIo, type Command, EXIT, PROGRAM, UsageError } from './command.ts';

const HELP = `Usage:
  ${PROGRAM} invite create [--data-dir DIR]                 a local runner (npm start)
  ${PROGRAM} invite create --table NAME [--region REGION]   a deployment on AWS

Issues one invite for a server with invite-only registration (registrationPolicy "invite") and
prints it once. Give it to the person who registers: \`switchyard id create --invite TOKEN\`. It is
valid for ${LIMITS.inviteTtlDays} days and one registration; the server keeps only its SHA-256.

Options:
  --data-dir DIR     The running local runner's data folder (default $DATA_DIR or ./.data); its
                     runner.json names the DynamoDB endpoint.
  --table NAME       AWS: the physical name of the deployment's ephemeral table (see the stateful
                     stack's resources). Uses the usual AWS credentials (profile, environment, SSO).
  --region REGION    AWS: the Region (default: from the AWS configuration).
  -h, --help         Show this help.

Exit codes: 0 ok · 1 the table refused the write · 2 usage · 5 no local runner reachable
`;

interface Target {
  readonly local: boolean;
  readonly table: string;
  readonly endpoint?: string;
  readonly region?: string;
}

function target(args: readonly string[], io: CliIo): Target | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'data-dir': { type: 'string' },
        table: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  const table = typeof values.table === 'string' ? values.table.trim() : undefined;
  const region = typeof values.region === 'string' ? values.region.trim() : undefined;
  if (table !== undefined) {
    if (values['data-dir'] !== undefined)
      throw new UsageError('Give --table (AWS) or --data-dir (local), not both.');
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table))
      throw new UsageError('--table must be a DynamoDB table name.');
    return { local: false, table, ...(region ? { region } : {}) };
  }
  if (region !== undefined) throw new UsageError('--region goes with --table (AWS).');
  const dataDir = resolve(
    typeof values['data-dir'] === 'string' ? values['data-dir'] : io.env.DATA_DIR?.trim() || '.data',
  );
  let running: { endpoints?: { dynamodb?: unknown }; tables?: { ephemeral?: unknown } } = {};
  try {
    running = JSON.parse(readFileSync(join(dataDir, 'runner.json'), 'utf8'));
  } catch {
    // No runner.json: no runner in that folder.
  }
  const endpoint = running.endpoints?.dynamodb;
  if (typeof endpoint !== 'string') throw new NoRunnerError();
  // The runner names its tables in runner.json (a runner may prefix them); older ones did not.
  const ephemeral =
    typeof running.tables?.ephemeral === 'string' ? running.tables.ephemeral : localTableName('ephemeral');
  return { local: true, table: ephemeral, endpoint };
}

class NoRunnerError extends Error {}

async function create(t: Target, io: CliIo): Promise<number> {
  const clients = t.local
    ? createClients({
        endpoints: { dynamodb: t.endpoint! },
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 2,
      })
    : createClients(t.region ? { region: t.region } : {});
  try {
    const ephemeral = dynamoEphemeralStore(clients.dynamo, t.table, () => epochSeconds(systemClock.now()));
    const token = await issueInvite({ ephemeral, clock: systemClock, random: systemRandom });
    io.stdout.write(`${token}\n`);
    io.stderr.write(
      `Invite issued: valid for ${LIMITS.inviteTtlDays} days and one registration. It is shown only ` +
        'now; the server keeps only its hash.\n',
    );
    return EXIT.ok;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause as { name?: string; message?: string } | undefined;
    if (t.local) {
      io.stderr.write(
        `${PROGRAM}: the local runner's DynamoDB could not be reached. Is the runner still running?\n`,
      );
      return EXIT.unreachable;
    }
    io.stderr.write(
      `${PROGRAM}: writing the invite failed (${cause?.name ?? 'error'}: ${cause?.message ?? String(error)}). ` +
        'Check --table, the Region and your AWS credentials.\n',
    );
    return EXIT.failure;
  } finally {
    clients.destroy();
  }
}

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'Issue an invite for invite-only registration (create)',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    try {
      if (sub !== 'create') throw new UsageError('Unknown invite command; the one there is: create.');
      const t = target(rest, io);
      if (t === 'help') {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      return await create(t, io);
    } catch (error) {
      if (error instanceof NoRunnerError) {
        io.stderr.write(
          `${PROGRAM}: no running local runner in the data folder (its runner.json is missing). ` +
            'Start one with `npm start`, point --data-dir at its folder, or pass --table for AWS.\n',
        );
        return EXIT.unreachable;
      }
      if (error instanceof UsageError) {
        io.stderr.write(`${PROGRAM}: ${error.message}\nRun \`${PROGRAM} invite --help\` for usage.\n`);
        return EXIT.usage;
      }
      io.stderr.write(`${PROGRAM}: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
      return EXIT.failure;
    }
  },
};
