/**
 * `switchyard-ops invite create|list|revoke`: the operator's invites for a deployment with
 * invite-only registration. They live in the `ephemeral` table, written and read with the AWS SDK
 * (there is no HTTP route for them on purpose: only whoever holds the deployment's AWS credentials,
 * or the local runner's data folder, can issue or see invites). It reuses the server's own
 * `issueInvite` and adapter, so the token format and its storage stay one piece of code.
 */
import { createHash } from 'node:crypto';
import { dynamoEphemeralStore, listInvites, revokeInvites } from '../lambdas/adapters/ephemeral.ts';
import { epochSeconds, systemClock, systemRandom } from '../lambdas/domain/clock.ts';
import { issueInvite } from '../lambdas/domain/directory.ts';
import { LIMITS } from '../protocol/limits.ts';
import { type CliIo, type Command, EXIT, exitCodesHelp, PROGRAM, UsageError } from './command.ts';
import { parseTarget, runOnTarget, type TablesTarget, targetClients, targetHelp } from './target.ts';

const HELP = `Usage:
  ${PROGRAM} invite create [TARGET]
  ${PROGRAM} invite list [--json] [TARGET]
  ${PROGRAM} invite revoke (TOKEN | --id ID | --all) [TARGET]

  create    Issues one invite for a server with invite-only registration (registrationPolicy
            "invite") and prints it once. Give it to the person who registers:
            \`switchyard id create --invite TOKEN\`. Valid for ${LIMITS.inviteTtlDays} days and one registration;
            the server keeps only its SHA-256.
  list      The unused invites: an ID (the start of the invite's SHA-256, not the token) and when
            each expires. Tokens can't be shown again: the server never had them.
  revoke    Deletes invites so they register no one: the one of TOKEN, the one listed as ID, or all.

TARGET, a local runner (default) or a deployment on AWS (the usual AWS credentials):
${targetHelp(['ephemeral'])}
  --table NAME          The same as --ephemeral-table.

Options:
  --json     list: one JSON array.
  -h, --help Show this help.

${exitCodesHelp([EXIT.unreachable])}`;

async function create(target: TablesTarget, io: CliIo): Promise<number> {
  const clients = targetClients(target);
  try {
    const ephemeral = dynamoEphemeralStore(clients.dynamo, target.tables.ephemeral, () =>
      epochSeconds(systemClock.now()),
    );
    const token = await issueInvite({ ephemeral, clock: systemClock, random: systemRandom });
    io.stdout.write(`${token}\n`);
    io.stderr.write(
      `Invite issued: valid for ${LIMITS.inviteTtlDays} days and one registration. It is shown only ` +
        'now; the server keeps only its hash.\n',
    );
    return EXIT.ok;
  } finally {
    clients.destroy();
  }
}

async function list(target: TablesTarget, io: CliIo, json: boolean): Promise<number> {
  const clients = targetClients(target);
  try {
    const invites = await listInvites(
      clients.dynamo,
      target.tables.ephemeral,
      epochSeconds(systemClock.now()),
    );
    const expires = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    if (json) {
      io.stdout.write(
        `${JSON.stringify(invites.map((i) => ({ id: i.id, expiresAt: expires(i.expiresAt) })))}\n`,
      );
    } else {
      for (const invite of invites) io.stdout.write(`${invite.id}  expires ${expires(invite.expiresAt)}\n`);
      io.stderr.write(`${invites.length} unused ${invites.length === 1 ? 'invite' : 'invites'}.\n`);
    }
    return EXIT.ok;
  } finally {
    clients.destroy();
  }
}

async function revoke(
  target: () => TablesTarget,
  io: CliIo,
  values: Record<string, string | boolean | undefined>,
  positionals: readonly string[],
): Promise<number> {
  const id = typeof values.id === 'string' ? values.id.trim().toLowerCase() : undefined;
  const chosen = [positionals.length > 0, id !== undefined, values.all === true].filter(Boolean).length;
  if (chosen !== 1 || positionals.length > 1)
    throw new UsageError('Say which invites to revoke: one TOKEN, --id ID, or --all.');
  if (id !== undefined && !/^[0-9a-f]{12}$/.test(id))
    throw new UsageError('--id takes an ID as `invite list` shows it (12 hex digits).');
  const token = positionals[0]?.trim();
  const which = values.all
    ? ({ all: true } as const)
    : id !== undefined
      ? { id }
      : { digest: new Uint8Array(createHash('sha256').update(token!).digest()) };
  const resolved = target();
  const clients = targetClients(resolved);
  try {
    const deleted = await revokeInvites(clients.dynamo, resolved.tables.ephemeral, which);
    io.stdout.write(`revoked ${deleted} ${deleted === 1 ? 'invite' : 'invites'}\n`);
    return deleted === 0 && !values.all ? EXIT.notFound : EXIT.ok;
  } finally {
    clients.destroy();
  }
}

export const inviteCommand: Command = {
  name: 'invite',
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return sub === undefined ? EXIT.usage : EXIT.ok;
    }
    return runOnTarget(io, `${PROGRAM} invite --help`, async () => {
      if (sub !== 'create' && sub !== 'list' && sub !== 'revoke')
        throw new UsageError('Unknown invite command; the ones there are: create, list, revoke.');
      const extra: Record<string, { type: 'string' | 'boolean' }> = {
        ...(sub === 'list' ? { json: { type: 'boolean' } } : {}),
        ...(sub === 'revoke' ? { id: { type: 'string' }, all: { type: 'boolean' } } : {}),
      };
      const { values, positionals, target } = parseTarget(rest, io, ['ephemeral'], extra, {
        table: 'ephemeral',
      });
      if (!target) {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      if (sub === 'revoke') return revoke(target, io, values, positionals);
      if (positionals.length > 0) throw new UsageError('Unexpected argument(s).');
      if (sub === 'create') return create(target(), io);
      return list(target(), io, values.json === true);
    });
  },
};
