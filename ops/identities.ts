/**
 * `switchyard-ops identities block|unblock|restore`. Block and unblock an identity for abuse
 * (lambdas/domain/directory/blocking.ts: reversible, unlike revocation; its owner and everyone else
 * see only what they'd see of a revoked identity). Restore is the last step of restoring the
 * directory from a backup (docs/OPERATIONS.md): AWS restores a backup or a point in time into a
 * *new* table; this copies the identities the live table lacks from it, and leaves every identity
 * the live table has as it is. All of it through the server's own adapters and rules.
 */
import { dynamoSessionStore } from '../lambdas/adapters/connections.ts';
import { dynamoIdentityStore, restoreMissingIdentities } from '../lambdas/adapters/identities.ts';
import { dynamoMailboxPurger } from '../lambdas/adapters/mailbox.ts';
import { blockIdentity, unblockIdentity } from '../lambdas/domain/directory.ts';
import { createClients } from '../lambdas/runtime/clients.ts';
import { isIdentityId } from '../protocol/identity.ts';
import {
  type CliIo,
  type Command,
  EXIT,
  exitCodesHelp,
  PROGRAM,
  parseOptions,
  UsageError,
} from './command.ts';
import { parseTarget, runOnTarget, targetClients, targetHelp } from './target.ts';

const BLOCK_HELP = `Usage:
  ${PROGRAM} identities block ID [TARGET]
  ${PROGRAM} identities unblock ID [TARGET]

block: the identity can no longer log in, look itself up, send, be found, be written to or change
anything; its live chat sessions end. Its owner learns only what the owner of a revoked identity
learns (not found, login refused); nothing says "blocked". Unlike revocation it keeps the key,
links and revocation password, and messages already waiting stay (they expire as usual).
unblock: the identity is active again, as it was.

TARGET, a local runner (default) or a deployment on AWS (the usual AWS credentials; IAM:
dynamodb:UpdateItem on the identities and mailbox tables, dynamodb:PutItem on the mailbox table
(block closes the mailbox's owner record) and dynamodb:DeleteItem on the connections table):
${targetHelp(['identities', 'connections', 'mailbox'])}

${exitCodesHelp([EXIT.unreachable, EXIT.notFound])}  13: the identity is not active (block) or not blocked (unblock); nothing changed.
`;

const HELP = `${BLOCK_HELP}
Usage: ${PROGRAM} identities restore --from TABLE --to TABLE [--region REGION]

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

/** `block ID` / `unblock ID`: the directory's own rule, on the target's tables. */
function blocking(sub: 'block' | 'unblock', args: readonly string[], io: CliIo): Promise<number> {
  return runOnTarget(io, `${PROGRAM} identities --help`, async () => {
    const { positionals, target } = parseTarget(args, io, ['identities', 'connections', 'mailbox']);
    if (!target) {
      io.stdout.write(BLOCK_HELP);
      return EXIT.ok;
    }
    const id = positionals.length === 1 ? positionals[0]!.trim().toUpperCase() : '';
    if (!isIdentityId(id)) throw new UsageError('Name one ID (8 characters, 0-9 and A-Z).');
    const resolved = target();
    const clients = targetClients(resolved);
    try {
      const identities = dynamoIdentityStore(clients.dynamo, resolved.tables.identities);
      const sessions = dynamoSessionStore(clients.dynamo, resolved.tables.connections);
      const mailbox = dynamoMailboxPurger(clients.dynamo, resolved.tables.mailbox);
      // Without the @connections API here, a session is ended by removing its record: every frame
      // of that connection is then refused as not logged in, and its closed mailbox lists no
      // session to push to.
      const closer = {
        async closeAll(connectionIds: readonly string[]) {
          for (const connectionId of connectionIds) await sessions.remove(connectionId);
        },
      };
      const changed =
        sub === 'block'
          ? await blockIdentity({ identities, mailbox, sessions: closer }, id)
          : await unblockIdentity({ identities, mailbox }, id);
      if (!changed) {
        io.stderr.write(
          `${PROGRAM}: nothing changed: the identity is ${sub === 'block' ? 'not active (unknown, revoked, deleted or already blocked)' : 'not blocked'}.\n`,
        );
        return EXIT.notFound;
      }
      io.stdout.write(`${sub === 'block' ? 'blocked' : 'unblocked'}\n`);
      return EXIT.ok;
    } finally {
      clients.destroy();
    }
  });
}

export const identitiesCommand: Command = {
  name: 'identities',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    if (sub === 'block' || sub === 'unblock') return blocking(sub, rest, io);
    if (sub !== 'restore') {
      io.stderr.write(
        `${PROGRAM}: unknown identities command; the ones there are: block, unblock, restore\n${HELP}`,
      );
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
