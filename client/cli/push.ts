/**
 * `switchyard push`: the identity's push targets, where the server sends a content-free wake-up
 * while messages wait and no session is connected (docs/PROTOCOL.md, "Push wake-ups"). An app
 * registers its own device token; the command is for scripts, tests and operators of their own
 * UnifiedPush distributor. Nothing printed repeats another identity's data; the list shows the
 * owner's own endpoints and tokens.
 */
import { ChatError } from '../chat/types.ts';
import { addPushTarget, listPushTargets, type PushTargetList, removePushTarget } from '../push/client.ts';
import { CHAT_OPTIONS, CHAT_OPTIONS_HELP, chatReported, openSession } from './chat.ts';
import { type Command, EXIT, exitCodesHelp, UsageError } from './command.ts';
import { commonOptionsHelp, DIRECTORY_EXITS, IDENTITY_EXITS, Invocation } from './directory-common.ts';

const HELP = `Usage: switchyard push list
       switchyard push add webpush|unifiedpush ENDPOINT --p256dh KEY --auth SECRET
       switchyard push add fcm|apns TOKEN
       switchyard push remove TARGET-ID

Push targets: where the server sends a wake-up (no sender, no content) while messages wait for you
and none of your sessions is connected. At most 10; registering the same endpoint or token again
replaces it. \`list\` prints one target a line (id, kind, endpoint or token), then the server's VAPID
public key (what a Web Push subscription is made with) and the kinds it sends to.

Options:
  --p256dh KEY     The subscription's public key (base64url, from PushSubscription.toJSON().keys).
  --auth SECRET    The subscription's auth secret (base64url).

${CHAT_OPTIONS_HELP}

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([...DIRECTORY_EXITS, ...IDENTITY_EXITS, EXIT.notSupported, EXIT.serverKeyMismatch])}`;

/** The push routes' refusals, in words; other chat refusals are chatReported's. */
const PUSH_MESSAGES: Record<string, [number, string]> = {
  bad_request: [EXIT.usage, 'The server refused the target as malformed (endpoint, keys or token).'],
  too_many_targets: [EXIT.rateLimited, 'You have the most push targets the server keeps: remove one first.'],
  not_supported: [EXIT.notSupported, 'This server has no credentials for that kind of push target.'],
};

function print(write: (text: string) => void, list: PushTargetList): void {
  for (const target of list.targets) write(`${target.id}  ${target.kind.padEnd(11)}  ${target.address}\n`);
  write(`vapid key: ${list.vapidKey}\nkinds: ${list.kinds.join(' ')}\n`);
}

export const pushCommand: Command = {
  name: 'push',
  run(args, io) {
    return chatReported(io, 'switchyard push --help', async () => {
      const run = Invocation.parse(args, io, {
        ...CHAT_OPTIONS,
        p256dh: { type: 'string' },
        auth: { type: 'string' },
      });
      if (run.help) {
        io.stdout.write(HELP);
        return EXIT.ok;
      }
      const [what, ...rest] = run.positionals;
      const write = (text: string) => io.stdout.write(text);
      let ask: (session: Awaited<ReturnType<typeof openSession>>) => Promise<PushTargetList>;
      if (what === 'list' && rest.length === 0) ask = (session) => listPushTargets(session);
      else if (what === 'remove' && rest.length === 1) ask = (session) => removePushTarget(session, rest[0]!);
      else if (what === 'add' && rest.length === 2 && (rest[0] === 'fcm' || rest[0] === 'apns')) {
        const kind = rest[0];
        ask = (session) => addPushTarget(session, { kind, token: rest[1]! });
      } else if (
        what === 'add' &&
        rest.length === 2 &&
        (rest[0] === 'webpush' || rest[0] === 'unifiedpush')
      ) {
        const kind = rest[0];
        const p256dh = run.string('p256dh');
        const auth = run.string('auth');
        if (!p256dh || !auth) throw new UsageError('A Web Push target needs --p256dh and --auth.');
        ask = (session) => addPushTarget(session, { kind, endpoint: rest[1]!, p256dh, auth });
      } else {
        throw new UsageError('Say `list`, `add KIND ENDPOINT|TOKEN` or `remove TARGET-ID` (see --help).');
      }
      // Only requests: deliveries stay for `listen`.
      const session = await openSession(run, { receive: false });
      try {
        await session.connect();
        print(write, await ask(session));
        return EXIT.ok;
      } catch (error) {
        const known = error instanceof ChatError ? PUSH_MESSAGES[error.code] : undefined;
        if (!known) throw error;
        io.stderr.write(`switchyard: ${known[1]}\n`);
        return known[0];
      } finally {
        await session.close();
      }
    });
  },
};
