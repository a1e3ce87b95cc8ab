/**
 * `switchyard lookup|link|unlink|match`: the directory from the command line. Addresses are checked
 * and normalised here; for matching only their hashes leave the machine.
 */
import { toHex } from '../../protocol/bytes.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { LookupEntry } from '../directory/client.ts';
import { type Command, EXIT, exitCodesHelp, UsageError } from './command.ts';
import {
  checkAddress,
  commonOptionsHelp,
  DIRECTORY_EXITS,
  formatMask,
  IDENTITY_EXITS,
  Invocation,
  identityArgument,
  kindArgument,
  runReported,
} from './directory-common.ts';
import { promptLine } from './prompt.ts';

const ordinal = (index: number) => `argument ${index + 1}`;

function helpFirst(io: Parameters<Command['run']>[1], args: readonly string[], help: string): boolean {
  if (args.length === 0 || args[0] === 'help') {
    io.stdout.write(help);
    return true;
  }
  return false;
}

// ─── lookup ─────────────────────────────────────────────────────────────────────────────────────

const LOOKUP_HELP = `Usage: switchyard lookup ID… [--json]

Looks identities up in the directory (no identity file needed) and prints one line per ID:
  ID  STATE (active | unknown)  FEATURE_MASK  PUBLIC_KEY
"unknown" means never issued, revoked or deleted: the directory does not tell them apart. Exits 13
when any ID is unknown.

Options:
  --json     Print a JSON array instead.

${commonOptionsHelp({ identityFile: false })}
${exitCodesHelp([...DIRECTORY_EXITS, EXIT.notFound])}`;

export const lookupCommand: Command = {
  name: 'lookup',
  run(args, io) {
    if (helpFirst(io, args, LOOKUP_HELP)) return Promise.resolve(args.length === 0 ? EXIT.usage : EXIT.ok);
    return runReported(io, 'switchyard lookup --help', async () => {
      const run = Invocation.parse(args, io, { json: { type: 'boolean' } });
      if (run.help) {
        io.stdout.write(LOOKUP_HELP);
        return EXIT.ok;
      }
      if (run.positionals.length === 0) throw new UsageError('Name at least one ID.');
      const ids = run.positionals.map((value, index) => identityArgument(value, ordinal(index)));
      const client = run.client();
      const entries: LookupEntry[] = [];
      for (let start = 0; start < ids.length; start += LIMITS.lookupMaxIds) {
        entries.push(...(await client.lookupMany(ids.slice(start, start + LIMITS.lookupMaxIds))));
      }
      if (run.flag('json')) {
        const json = entries.map((entry) =>
          entry.state === 0
            ? {
                identity: entry.identity,
                state: 'active',
                featureMask: entry.featureMask ?? 0,
                publicKey: toHex(entry.publicKey!),
              }
            : { identity: entry.identity, state: 'unknown' },
        );
        io.stdout.write(`${JSON.stringify(json)}\n`);
      } else {
        for (const entry of entries) {
          io.stdout.write(
            entry.state === 0
              ? `${entry.identity}  active   ${formatMask(entry.featureMask)}  ${toHex(entry.publicKey!)}\n`
              : `${entry.identity}  unknown  -       -\n`,
          );
        }
      }
      const invalid = entries.filter((entry) => entry.state !== 0).length;
      if (invalid === 0) return EXIT.ok;
      io.stderr.write(
        `switchyard: ${invalid} of ${entries.length} ${entries.length === 1 ? 'identity is' : 'identities are'} unknown, revoked or deleted.\n`,
      );
      return EXIT.notFound;
    });
  },
};

// ─── link / unlink ──────────────────────────────────────────────────────────────────────────────

const LINK_HELP = `Usage:
  switchyard link email|phone ADDRESS
  switchyard link confirm email|phone CODE

Links an e-mail address or phone number to your identity, so that people who have it in their
contacts can find you with \`switchyard match\`. The server sends a 6-digit code to the address;
on a terminal you are asked for it right away, otherwise confirm with \`link confirm\`. The server
keeps only an HMAC-SHA256 hash of the address, and only once the code is confirmed.
Phone numbers in international form: +41 79 123 45 67.

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([...DIRECTORY_EXITS, ...IDENTITY_EXITS, EXIT.codeInvalid, EXIT.notSupported])}`;

const CODE = /^[0-9]{6}$/;

export const linkCommand: Command = {
  name: 'link',
  run(args, io) {
    if (helpFirst(io, args, LINK_HELP)) return Promise.resolve(args.length === 0 ? EXIT.usage : EXIT.ok);
    return runReported(io, 'switchyard link --help', async () => {
      const run = Invocation.parse(args, io);
      if (run.help) {
        io.stdout.write(LINK_HELP);
        return EXIT.ok;
      }
      const confirming = run.positionals[0] === 'confirm';
      const [kindText, value] = run
        .expectPositionals(
          confirming ? 3 : 2,
          confirming ? 'email|phone and the CODE' : 'email|phone and the ADDRESS',
        )
        .slice(confirming ? 1 : 0);
      const kind = kindArgument(kindText);
      if (confirming) {
        const code = value!.trim();
        if (!CODE.test(code)) throw new UsageError('A verification code has 6 digits.');
        const client = run.client();
        const { identity, keys } = await run.identity();
        await client.owner(identity, keys.secretKey).confirm(kind, code);
        io.stderr.write(
          `Linked: your ${kind === 'email' ? 'e-mail address' : 'phone number'} is confirmed.\n`,
        );
        return EXIT.ok;
      }
      checkAddress(kind, value!, `The ${kind === 'email' ? 'address' : 'number'}`);
      const client = run.client();
      const { identity, keys } = await run.identity();
      const owner = client.owner(identity, keys.secretKey);
      await owner.link(kind, value!);
      const later = `switchyard link confirm ${kind} CODE`;
      if (!io.stdin.isTTY) {
        io.stderr.write(`A verification code is on its way. Confirm it with: ${later}\n`);
        return EXIT.ok;
      }
      const code = await promptLine(
        `A verification code is on its way. Code (or Ctrl-C, and later \`${later}\`): `,
        io,
        `Confirm the code with: ${later}`,
      );
      if (!CODE.test(code)) throw new UsageError(`A verification code has 6 digits. Confirm with: ${later}`);
      await owner.confirm(kind, code);
      io.stderr.write(`Linked: your ${kind === 'email' ? 'e-mail address' : 'phone number'} is confirmed.\n`);
      return EXIT.ok;
    });
  },
};

const UNLINK_HELP = `Usage: switchyard unlink email|phone

Removes the linked e-mail address's or phone number's hash from your identity.

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([...DIRECTORY_EXITS, ...IDENTITY_EXITS])}`;

export const unlinkCommand: Command = {
  name: 'unlink',
  run(args, io) {
    if (helpFirst(io, args, UNLINK_HELP)) return Promise.resolve(args.length === 0 ? EXIT.usage : EXIT.ok);
    return runReported(io, 'switchyard unlink --help', async () => {
      const run = Invocation.parse(args, io);
      if (run.help) {
        io.stdout.write(UNLINK_HELP);
        return EXIT.ok;
      }
      const [kindText] = run.expectPositionals(1, 'email or phone');
      const kind = kindArgument(kindText);
      const client = run.client();
      const { identity, keys } = await run.identity();
      await client.owner(identity, keys.secretKey).unlink(kind);
      io.stderr.write(
        `Unlinked: no ${kind === 'email' ? 'e-mail address' : 'phone number'} is linked now.\n`,
      );
      return EXIT.ok;
    });
  },
};

// ─── match ──────────────────────────────────────────────────────────────────────────────────────

const MATCH_HELP = `Usage: switchyard match [--emails A,B,…] [--phones X,Y,…] [--json]

Finds identities that linked any of these addresses. The addresses are normalised and hashed here
(HMAC-SHA256); only the hashes are sent, and the server forgets them after answering. Prints one
line per match:  ID  KIND  PUBLIC_KEY. At most ${LIMITS.matchMaxHashes} addresses per call, and the
server allows ${LIMITS.matchHashesPerDay} per identity per day.

Options:
  --emails LIST   E-mail addresses, comma-separated (repeatable).
  --phones LIST   Phone numbers in international form, comma-separated (repeatable).
  --json          Print a JSON array instead.

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([...DIRECTORY_EXITS, ...IDENTITY_EXITS])}`;

export const matchCommand: Command = {
  name: 'match',
  run(args, io) {
    if (helpFirst(io, args, MATCH_HELP)) return Promise.resolve(args.length === 0 ? EXIT.usage : EXIT.ok);
    return runReported(io, 'switchyard match --help', async () => {
      const run = Invocation.parse(args, io, {
        emails: { type: 'string', multiple: true },
        phones: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      });
      if (run.help) {
        io.stdout.write(MATCH_HELP);
        return EXIT.ok;
      }
      run.expectPositionals(0, '');
      const emails = run.list('emails');
      const phones = run.list('phones');
      for (const [index, email] of emails.entries())
        checkAddress('email', email, `Entry ${index + 1} of --emails`);
      for (const [index, phone] of phones.entries())
        checkAddress('phone', phone, `Entry ${index + 1} of --phones`);
      if (emails.length + phones.length === 0) throw new UsageError('Give --emails or --phones.');
      if (emails.length + phones.length > LIMITS.matchMaxHashes)
        throw new UsageError(`At most ${LIMITS.matchMaxHashes} addresses per call.`);
      const client = run.client();
      const { identity, keys } = await run.identity();
      const matches = await client.owner(identity, keys.secretKey).match({ emails, phones });
      if (run.flag('json')) {
        io.stdout.write(
          `${JSON.stringify(matches.map((m) => ({ identity: m.identity, kind: m.kind, address: m.address, publicKey: toHex(m.publicKey) })))}\n`,
        );
      } else {
        for (const m of matches)
          io.stdout.write(`${m.identity}  ${m.kind.padEnd(5)}  ${m.address}  ${toHex(m.publicKey)}\n`);
        if (matches.length === 0) io.stderr.write('No matches.\n');
      }
      return EXIT.ok;
    });
  },
};
