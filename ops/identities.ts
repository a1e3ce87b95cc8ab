/**
 * `switchyard-ops identities restore`: the last step of restoring the directory from a backup
 * (docs/OPERATIONS.md). AWS restores a backup or a point in time into a *new* table; this copies
 * the identities the live table lacks from it, and leaves every identity the live table has as it
 * is. It uses the server's adapter, so attribute names stay in one module.
 */
import { restoreMissingIdentities } from '../lambdas/adapters/identities.ts';
import { createClients } from '../lambdas/runtime/clients.ts';
import { type Command, EXIT, PROGRAM, parseOptions } from './command.ts';

const HELP = `Usage: ${PROGRAM} identities restore --from TABLE --to TABLE [--region REGION]

Copies into the live identities table (--to) every identity of a restored table (--from) that the
live table does not have. Identities the live table has win, with their current state: a revocation,
a new link or an updated key made after the backup stays. Running it again restores nothing new.
Uses the usual AWS credentials (profile, environment, SSO): Scan on --from, PutItem on --to.

An identity revoked or deleted after the backup stays so: the live table keeps its tombstone,
which wins. Only into an empty or recreated live table do such identities come back; then prefer
the latest good point in time (docs/OPERATIONS.md).

Exit codes: 0 ok · 1 a table refused · 2 usage
`;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export const identitiesCommand: Command = {
  name: 'identities',
  summary: 'Restore the directory from a restored table (restore)',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    if (sub !== 'restore') {
      io.stderr.write(`${PROGRAM}: unknown identities command; the one there is: restore\n${HELP}`);
      return EXIT.usage;
    }
    const values = parseOptions(
      rest,
      { from: { type: 'string' }, to: { type: 'string' }, region: { type: 'string' } },
      io,
      HELP,
    );
    if (typeof values === 'number') return values;
    const from = typeof values.from === 'string' ? values.from.trim() : '';
    const to = typeof values.to === 'string' ? values.to.trim() : '';
    if (!TABLE_NAME.test(from) || !TABLE_NAME.test(to) || from === to) {
      io.stderr.write(`${PROGRAM}: --from and --to must be two different DynamoDB table names\n${HELP}`);
      return EXIT.usage;
    }
    const clients = createClients(typeof values.region === 'string' ? { region: values.region } : {});
    try {
      const { restored, kept } = await restoreMissingIdentities(clients.dynamo, from, to);
      io.stdout.write(`restored ${restored} identities; kept ${kept} the live table already had\n`);
      return EXIT.ok;
    } catch (error) {
      const cause = (error as { cause?: { name?: string; message?: string } }).cause;
      io.stderr.write(
        `${PROGRAM}: the restore stopped (${cause?.name ?? 'error'}: ${cause?.message ?? String(error)}). ` +
          'Identities copied so far stay; running it again continues. Check the table names, the ' +
          'Region and your AWS credentials.\n',
      );
      return EXIT.failure;
    } finally {
      clients.destroy();
    }
  },
};
