/**
 * `switchyard id create|show|export|set-revocation-password|revoke|delete`: an identity's life
 * cycle. The key pair is made here and its secret key goes only into the identity file (mode 0600,
 * optionally passphrase-encrypted); the server sees the public key and challenge responses.
 */
import { rmSync } from 'node:fs';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import { readIdentityFilePublic, saveIdentityFile } from '../keyfile.ts';
import { type Command, EXIT, exitCodesHelp, UsageError } from './command.ts';
import {
  checkRevocationPassword,
  claimIdentityFile,
  commonOptionsHelp,
  DIRECTORY_EXITS,
  featureMaskArgument,
  formatMask,
  IDENTITY_EXITS,
  Invocation,
  identityArgument,
  runReported,
} from './directory-common.ts';
import { promptHidden } from './prompt.ts';

const HELP = `Usage:
  switchyard id create [--invite TOKEN] [--feature-mask N]
  switchyard id show [--json]
  switchyard id export
  switchyard id set-revocation-password [--password-stdin]
  switchyard id revoke ID [--password-stdin] [--yes]
  switchyard id delete [--yes]

  create                    Make a key pair on this machine, register its public key, and write the
                            identity file (mode 0600; never overwrites one). Prints the new ID.
                            Asks for a passphrase to encrypt the file (empty: none).
  show                      The ID and public key from the identity file, and the server's view.
  export                    Everything the server stores about the identity, as JSON (*MY3DATA).
  set-revocation-password   Set the password that revokes the identity without this device.
  revoke ID                 Revoke an identity for good with its revocation password (no identity
                            file needed: for a lost device).
  delete                    Delete the identity on the server, then the identity file.

Options:
  --invite TOKEN            create: an invite from the operator (servers with invite-only registration).
  --feature-mask N          create: the feature mask to publish (0 to 0xffff; default 0).
  --password-stdin          Read the revocation password from stdin instead of a prompt.
  --yes                     revoke, delete: do not ask for confirmation.
  --json                    show: print JSON.

${commonOptionsHelp({ identityFile: true, writesIdentityFile: true })}
${exitCodesHelp([
  ...DIRECTORY_EXITS,
  ...IDENTITY_EXITS,
  EXIT.inviteRequired,
  EXIT.notFound,
  EXIT.revocationRefused,
])}`;

const OPTIONS = {
  invite: { type: 'string' },
  'feature-mask': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

async function create(run: Invocation): Promise<number> {
  run.expectPositionals(0, '');
  const featureMask = featureMaskArgument(run.string('feature-mask'));
  const invite = run.string('invite')?.trim();
  const client = run.client();
  const path = run.identityFile;
  // Claim the path before registering, so an identity is never registered without a place for its key.
  claimIdentityFile(path);
  let written = false;
  try {
    const passphrase = await run.newPassphrase();
    const keys = generateKeyPair();
    const identity = await client.createIdentity(keys, {
      ...(invite ? { invite } : {}),
      ...(featureMask === undefined ? {} : { featureMask }),
    });
    await saveIdentityFile(
      path,
      { identity, keys },
      { overwrite: true, ...(passphrase ? { passphrase } : {}) },
    );
    written = true;
    run.io.stdout.write(`${identity}\n`);
    run.io.stderr.write(
      `Registered. The identity file is readable by you only${passphrase ? ' and encrypted with your passphrase' : ' (not encrypted)'}.\n`,
    );
    return EXIT.ok;
  } finally {
    if (!written) rmSync(path, { force: true });
  }
}

async function show(run: Invocation): Promise<number> {
  run.expectPositionals(0, '');
  const local = readIdentityFilePublic(run.identityFile);
  const entry = await run.client().lookup(local.identity);
  const sameKey = entry?.publicKey !== undefined && toHex(entry.publicKey) === toHex(local.publicKey);
  if (run.flag('json')) {
    run.io.stdout.write(
      `${JSON.stringify({
        identity: local.identity,
        publicKey: toHex(local.publicKey),
        encrypted: local.encrypted,
        server: entry
          ? { state: 'active', featureMask: entry.featureMask ?? 0, sameKey }
          : { state: 'invalid' },
      })}\n`,
    );
  } else {
    run.io.stdout.write(
      [
        `identity    ${local.identity}`,
        `public key  ${toHex(local.publicKey)}`,
        `file        ${local.encrypted ? 'encrypted with a passphrase' : 'not encrypted'}`,
        `server      ${
          entry
            ? `active, feature mask ${formatMask(entry.featureMask)}${sameKey ? '' : ', but with ANOTHER public key'}`
            : 'unknown, revoked or deleted'
        }`,
        '',
      ].join('\n'),
    );
  }
  if (!entry) return EXIT.notFound;
  return sameKey ? EXIT.ok : EXIT.keyRefused;
}

async function exportData(run: Invocation): Promise<number> {
  run.expectPositionals(0, '');
  const client = run.client();
  const { identity, keys } = await run.identity();
  const data = await client.owner(identity, keys.secretKey).export();
  run.io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  return EXIT.ok;
}

async function revocationPassword(run: Invocation, confirm: boolean): Promise<string> {
  if (run.flag('password-stdin')) {
    const password = await run.stdinSecret('the revocation password');
    checkRevocationPassword(password);
    return password;
  }
  const password = await promptHidden('Revocation password: ', run.io);
  checkRevocationPassword(password);
  if (confirm && (await promptHidden('Repeat the revocation password: ', run.io)) !== password)
    throw new UsageError('The two passwords differ. Nothing was changed.');
  return password;
}

async function setRevocationPassword(run: Invocation): Promise<number> {
  run.expectPositionals(0, '');
  const client = run.client();
  const { identity, keys } = await run.identity();
  const password = await revocationPassword(run, true);
  await client.owner(identity, keys.secretKey).setRevocationPassword(password);
  run.io.stderr.write(
    'Revocation password set. With it, `switchyard id revoke` destroys this identity from any device.\n',
  );
  return EXIT.ok;
}

async function revoke(run: Invocation): Promise<number> {
  const [raw] = run.expectPositionals(1, 'the ID to revoke: switchyard id revoke ID');
  const identity = identityArgument(raw!, 'ID to revoke');
  const client = run.client();
  await run.confirm(
    'Revoke this identity for good? It can never be used again, and its messages are deleted.',
  );
  const password = await revocationPassword(run, false);
  await client.revoke(identity, password);
  run.io.stderr.write('Identity revoked.\n');
  return EXIT.ok;
}

async function deleteIdentity(run: Invocation): Promise<number> {
  run.expectPositionals(0, '');
  const client = run.client();
  const { identity, keys } = await run.identity();
  await run.confirm(
    'Delete this identity for good? Its directory entry and waiting messages are removed, then the identity file.',
  );
  await client.owner(identity, keys.secretKey).delete();
  rmSync(run.identityFile, { force: true });
  run.io.stderr.write('Identity deleted on the server; the identity file is removed.\n');
  return EXIT.ok;
}

const SUBCOMMANDS: Record<string, (run: Invocation) => Promise<number>> = {
  create,
  show,
  export: exportData,
  'set-revocation-password': setRevocationPassword,
  revoke,
  delete: deleteIdentity,
};

export const idCommand: Command = {
  name: 'id',
  run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
      io.stdout.write(HELP);
      return Promise.resolve(sub === undefined ? EXIT.usage : EXIT.ok);
    }
    return runReported(io, 'switchyard id --help', async () => {
      const action = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
      if (!action) throw new UsageError('Unknown id command.');
      const run = Invocation.parse(rest, io, OPTIONS);
      if (run.help) {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      return action(run);
    });
  },
};
