/**
 * `switchyard-ops usage`: how a deployment is used, in counts by day — registrations, identities by
 * the day of their last login — and now: identities by state, messages waiting. Only counts leave
 * the tables: the adapters read no ID, key, hash or message (lambdas/adapters/identities.ts
 * `identityFigures`, lambdas/adapters/mailbox/figures.ts). Each run reads both tables whole.
 */
import { identityFigures } from '../lambdas/adapters/identities.ts';
import { waitingFigures } from '../lambdas/adapters/mailbox.ts';
import { systemClock } from '../lambdas/domain/clock.ts';
import { type Command, EXIT, exitCodesHelp, PROGRAM, UsageError } from './command.ts';
import { parseTarget, runOnTarget, targetClients, targetHelp } from './target.ts';

const MAX_DAYS = 366;

const HELP = `Usage: ${PROGRAM} usage [--days N] [--json] [TARGET]

Counts, never identifiers, for the last N days (default 14, at most ${MAX_DAYS}; days in UTC):
  registered   identities created that day
  last login   identities whose latest login was that day (the directory keeps only the latest
               day of each: an identity seen on several days counts on the last one)
and now: identities by state (active, blocked, revoked or deleted) and the messages waiting in
mailboxes (with expired ones that DynamoDB's TTL has not deleted yet: an estimate from above).

Reads both tables whole (a Scan each: on AWS about 1 read unit per 4 KB of table).

TARGET, a local runner (default) or a deployment on AWS (the usual AWS credentials; IAM:
dynamodb:Scan on the identities and the mailbox table):
${targetHelp(['identities', 'mailbox'])}

Options:
  --days N    How many days back, today included.
  --json      One JSON object: {"days": [{"day", "registered", "lastLogin"}], "identities", "waiting"}.
  -h, --help  Show this help.

${exitCodesHelp([EXIT.unreachable])}`;

/** The last `count` UTC days, oldest first, ending today. */
function lastDays(count: number, now: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    new Date(now - (count - 1 - i) * 86_400_000).toISOString().slice(0, 10),
  );
}

export const usageCommand: Command = {
  name: 'usage',
  run(args, io) {
    return runOnTarget(io, `${PROGRAM} usage --help`, async () => {
      const { values, positionals, target } = parseTarget(args, io, ['identities', 'mailbox'], {
        days: { type: 'string' },
        json: { type: 'boolean' },
      });
      if (!target) {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      if (positionals.length > 0) throw new UsageError('Unexpected argument(s).');
      const daysText = typeof values.days === 'string' ? values.days.trim() : '14';
      const days = /^[0-9]{1,3}$/.test(daysText) ? Number(daysText) : 0;
      if (days < 1 || days > MAX_DAYS)
        throw new UsageError(`--days must be a whole number from 1 to ${MAX_DAYS}.`);
      const resolved = target();
      const clients = targetClients(resolved);
      try {
        const [identities, waiting] = await Promise.all([
          identityFigures(clients.dynamo, resolved.tables.identities),
          waitingFigures({ dynamo: clients.dynamo, name: resolved.tables.mailbox }),
        ]);
        const rows = lastDays(days, systemClock.now()).map((day) => ({
          day,
          registered: identities.registered[day] ?? 0,
          lastLogin: identities.lastLogin[day] ?? 0,
        }));
        if (values.json) {
          io.stdout.write(`${JSON.stringify({ days: rows, identities: identities.states, waiting })}\n`);
          return EXIT.ok;
        }
        io.stdout.write('day         registered  last login\n');
        for (const row of rows) {
          io.stdout.write(
            `${row.day}  ${String(row.registered).padStart(10)}  ${String(row.lastLogin).padStart(10)}\n`,
          );
        }
        const { active, blocked, revoked } = identities.states;
        io.stdout.write(
          `identities: ${active} active · ${blocked} blocked · ${revoked} revoked or deleted\n` +
            `waiting messages: ${waiting.messages} in ${waiting.mailboxes} ${waiting.mailboxes === 1 ? 'mailbox' : 'mailboxes'}\n`,
        );
        return EXIT.ok;
      } finally {
        clients.destroy();
      }
    });
  },
};
