/**
 * The `switchyard-ops` dispatcher: `switchyard-ops <command> [args]`, the operator's tools. They
 * work on a deployment's tables and secrets with AWS credentials, or on a local runner's data
 * folder, and so use the server's own adapters; that is why they live here and not in the client
 * CLI (`switchyard`), which never imports server code. A command is registered by adding it to
 * COMMANDS (the contract is client/cli/command.ts's `Command`; the module loads when it runs).
 */
import { dispatch } from '../client/cli/main.ts';
import { type CliIo, type CommandEntry, PROGRAM } from './command.ts';

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'invite',
    summary: 'Invites for invite-only registration (create, list, revoke)',
    load: async () => (await import('./invite.ts')).inviteCommand,
  },
  {
    name: 'identities',
    summary: 'Block or unblock an identity; restore the directory from a restored table',
    load: async () => (await import('./identities.ts')).identitiesCommand,
  },
  {
    name: 'usage',
    summary: 'Usage figures by day: counts only, no identifiers',
    load: async () => (await import('./usage.ts')).usageCommand,
  },
  {
    name: 'server-key',
    summary: "Print the server's public key for clients to pin, or make the next one",
    load: async () => (await import('./server-key.ts')).serverKeyCommand,
  },
];

/** Runs one `switchyard-ops` invocation and returns its exit code. */
export function runOps(argv: readonly string[], io: CliIo): Promise<number> {
  return dispatch(PROGRAM, COMMANDS, argv, io);
}
