/**
 * `switchyard send ID TEXT` and `switchyard listen`: the chat switch from the command line, with
 * the identity file for the key and the pinned server key for the handshake.
 */
import { fromHex } from '../../protocol/bytes.ts';
import { encodeText, maxTextBytes } from '../chat/content.ts';
import { checkTextFits, Messenger } from '../chat/messenger.ts';
import { ChatError, ChatSession } from '../chat/session.ts';
import { BlobVerificationError, finishDownload } from '../media/client.ts';
import { type CliIo, type Command, EXIT, exitCodesHelp, UsageError } from './command.ts';
import {
  commonOptionsHelp,
  DIRECTORY_EXITS,
  IDENTITY_EXITS,
  Invocation,
  identityArgument,
  runReported,
} from './directory-common.ts';
import { mediaTypeOf, saveReceivedFile, uploadPath } from './files.ts';

export const ENV_WS = 'SWITCHYARD_WS';
export const ENV_SERVER_KEY = 'SWITCHYARD_SERVER_KEY';

export const CHAT_OPTIONS_HELP = `Chat options:
  --ws URL               The WebSocket URL (default: derived from --server, e.g. ws://127.0.0.1:8080/ws,
                         or $${ENV_WS}); on AWS the stack's WebSocketUrl output.
  --server-key HEX       The server's public key to pin (or $${ENV_SERVER_KEY}): printed by \`npm start\`;
                         for a deployment, its ServerPublicKey output. During a key rotation:
                         CURRENT,NEXT (either may answer).`;

export const CHAT_OPTIONS = { ws: { type: 'string' }, 'server-key': { type: 'string' } } as const;

/** Messages and exit codes for the chat switch's refusals. */
const CHAT_MESSAGES: Record<string, [number, string]> = {
  unreachable: [EXIT.unreachable, 'Could not reach the chat server. Is it running, and is --ws right?'],
  server_key_mismatch: [
    EXIT.serverKeyMismatch,
    'The server could not prove the pinned server key: wrong --server-key, or not the server you meant.',
  ],
  login_failed: [
    EXIT.keyRefused,
    'The server refused the login: the identity is revoked or the key does not match it.',
  ],
  not_logged_in: [EXIT.keyRefused, 'The server refused the handshake. Try again.'],
  unknown_recipient: [EXIT.notFound, 'That recipient is unknown, revoked or deleted. Nothing was sent.'],
  mailbox_full: [EXIT.rateLimited, "The recipient's mailbox is full. Nothing was sent; try again later."],
  rate_limited: [EXIT.rateLimited, 'Too many messages: wait a minute and try again.'],
  timeout: [EXIT.unreachable, 'The chat server did not answer in time.'],
  too_large: [
    EXIT.tooLarge,
    `The text is too long: at most ${maxTextBytes()} bytes (UTF-8) fit in one message. Nothing was sent.`,
  ],
  quota_exceeded: [
    EXIT.rateLimited,
    'Your files in flight fill your quota: wait until recipients have them, or for them to expire.',
  ],
  file_too_large: [EXIT.tooLarge, 'The file is larger than this server accepts. Nothing was sent.'],
  storage_refused: [EXIT.serverError, 'The storage refused the upload. Nothing was sent.'],
  bad_request: [
    EXIT.keyRefused,
    "The recipient's public key is unusable (a weak, small-order key). Nothing was sent.",
  ],
};

function wsUrl(run: Invocation): string {
  const explicit = run.string('ws') ?? run.io.env[ENV_WS];
  const url = new URL(
    explicit || new URL('ws', run.server.endsWith('/') ? run.server : `${run.server}/`).toString(),
  );
  if (!explicit) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'wss:' && !(local && url.protocol === 'ws:')) {
    throw new UsageError('--ws must be a wss:// URL (ws:// only for localhost).');
  }
  return url.toString();
}

/** The pinned key, or during a rotation the current and the next one, comma-separated. */
function serverKey(run: Invocation): Uint8Array[] {
  const given = (run.string('server-key') ?? run.io.env[ENV_SERVER_KEY] ?? '').trim().toLowerCase();
  const keys = given.split(',').map((hex) => fromHex(hex.trim()));
  if (keys.length > 2 || keys.some((key) => key?.length !== 32)) {
    throw new UsageError(
      `Give the server's public key (64 hex characters) with --server-key or $${ENV_SERVER_KEY}; ` +
        'during a key rotation, the current and the next key separated by a comma.',
    );
  }
  return keys as Uint8Array[];
}

/** A session for `run`; `receive: false` for one that only sends and must take no delivery. */
export async function openSession(
  run: Invocation,
  options: { receive?: boolean } = {},
): Promise<ChatSession> {
  const url = wsUrl(run);
  const pinned = serverKey(run);
  const { identity, keys } = await run.identity();
  const directory = run.client();
  return new ChatSession({
    url,
    serverPublicKey: pinned,
    identity,
    keys,
    publicKeyOf: async (peer) => {
      const entry = await directory.lookup(peer);
      if (!entry?.publicKey) throw new ChatError('unknown_recipient');
      return entry.publicKey;
    },
    ...options,
  });
}

export function chatReported(io: CliIo, help: string, body: () => Promise<number>): Promise<number> {
  return runReported(io, help, async () => {
    try {
      return await body();
    } catch (error) {
      if (!(error instanceof ChatError)) throw error;
      const [exit, message] = CHAT_MESSAGES[error.code] ?? [
        EXIT.serverError,
        `The chat server refused (${error.code}).`,
      ];
      io.stderr.write(`switchyard: ${message}\n`);
      return exit;
    }
  });
}

const SEND_HELP = `Usage: switchyard send ID TEXT
       switchyard send ID --file PATH [--type TYPE]

Sends TEXT, end-to-end encrypted to ID's public key, and waits for the server's ack (the message is
then stored until ID's device acknowledges it, or expires). Messages waiting for you are left
alone (\`listen\` gets them). TEXT may be at most ${maxTextBytes()} bytes
of UTF-8 (one WebSocket frame); a longer one is refused with exit code ${EXIT.tooLarge}, nothing sent.

With --file, the file is encrypted with a fresh key, uploaded straight to the server's storage
(progress on stderr for large files), and a message carrying its key and hash goes to ID. The
server deletes the file once ID has it, or after its retention (14 days by default). A file over
the server's limit (50 MiB by default) is refused with exit code ${EXIT.tooLarge}, nothing sent.

Options:
  --file PATH   Send this file instead of a text.
  --type TYPE   Its media type (default: from the extension, else application/octet-stream).

${CHAT_OPTIONS_HELP}

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([...DIRECTORY_EXITS, ...IDENTITY_EXITS, EXIT.notFound, EXIT.serverKeyMismatch])}`;

export const sendCommand: Command = {
  name: 'send',
  run(args, io) {
    return chatReported(io, 'switchyard send --help', async () => {
      const run = Invocation.parse(args, io, {
        ...CHAT_OPTIONS,
        file: { type: 'string' },
        type: { type: 'string' },
      });
      if (run.help) {
        io.stdout.write(SEND_HELP);
        return EXIT.ok;
      }
      const path = run.string('file');
      if (path !== undefined) return sendFile(io, run, path);
      const [id, text] = run.expectPositionals(2, 'an ID and the text to send');
      const recipient = identityArgument(id!, 'recipient');
      // Refused before connecting: a text over one frame would only make the gateway close.
      checkTextFits(text!);
      // Sending takes no delivery: messages waiting for this identity stay for `listen`.
      const session = await openSession(run, { receive: false });
      try {
        await session.connect();
        // The recipient's key is needed before anything is sent: an unknown ID fails here.
        await session.send(recipient, encodeText(text!));
        io.stdout.write('sent: stored until delivered\n');
        return EXIT.ok;
      } finally {
        await session.close();
      }
    });
  },
};

/** `send ID --file PATH`: upload, then the attachment message; nothing is sent if the upload fails. */
async function sendFile(io: CliIo, run: Invocation, path: string): Promise<number> {
  const [id] = run.expectPositionals(1, 'an ID (and --file, no text)');
  const recipient = identityArgument(id!, 'recipient');
  const mediaType = mediaTypeOf(path, run.string('type'));
  const session = await openSession(run, { receive: false });
  try {
    await session.connect();
    const attachment = await uploadPath(io, session, recipient, path, mediaType).catch((error: unknown) => {
      throw error instanceof ChatError && error.code === 'too_large'
        ? new ChatError('file_too_large')
        : error;
    });
    try {
      await new Messenger(session).sendAttachment(recipient, attachment).acked;
    } catch (error) {
      // The message was refused: the uploaded blob would only wait for its expiry. Cancel it.
      await finishDownload(session, attachment.blob).catch(() => {});
      throw error;
    }
    io.stdout.write('sent: file stored until delivered\n');
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

const LISTEN_HELP = `Usage: switchyard listen [--count N] [--json] [--save-dir DIR]

Connects, prints the messages waiting for this identity and then each new one as it arrives (one
line each: sender, time, text), and acknowledges them, which deletes them on the server; each
sender gets an end-to-end encrypted delivery receipt. Runs until Ctrl-C, or until N messages have
been printed; messages beyond N are not acknowledged and stay for the next listen.

A file message is downloaded into DIR (its sender's name, never a path; " (1)" added rather than
overwrite), verified before it gets its name (a tampered or cut-short file is refused and nothing
kept), and then deleted on the server. Its line reads: sender, time, "file:", the saved path.

Options:
  --count N       Exit after N messages.
  --json          One JSON object per line: {"sender", "sentAt", "text"}, or for a file
                  {"sender", "sentAt", "file": {"path", "name", "mediaType", "size"}}.
  --save-dir DIR  Where received files are saved (default: the current directory).

${CHAT_OPTIONS_HELP}

${commonOptionsHelp({ identityFile: true })}
${exitCodesHelp([...DIRECTORY_EXITS, ...IDENTITY_EXITS, EXIT.serverKeyMismatch])}`;

export const listenCommand: Command = {
  name: 'listen',
  run(args, io) {
    return chatReported(io, 'switchyard listen --help', async () => {
      const run = Invocation.parse(args, io, {
        ...CHAT_OPTIONS,
        count: { type: 'string' },
        json: { type: 'boolean' },
        'save-dir': { type: 'string' },
      });
      if (run.help) {
        io.stdout.write(LISTEN_HELP);
        return EXIT.ok;
      }
      run.expectPositionals(0, '');
      const countText = run.string('count');
      const count = countText === undefined ? Number.POSITIVE_INFINITY : Number(countText);
      if (!(Number.isInteger(count) && count > 0) && countText !== undefined) {
        throw new UsageError('--count must be a whole number above 0.');
      }
      const session = await openSession(run);
      let printed = 0;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      // Texts in the content format of client/chat/content.ts; delivery receipts go back to senders.
      const messenger = new Messenger(session);
      messenger.onText = (message) => {
        // Past --count: refused, so it is not acked and stays on the server for the next listen.
        if (printed >= count) return false;
        const { text } = message;
        const line = run.flag('json')
          ? JSON.stringify({ sender: message.sender, sentAt: message.sentAt, text })
          : `${message.sender}  ${new Date(message.sentAt).toISOString()}  ${text}`;
        io.stdout.write(`${line}\n`);
        printed++;
        if (printed >= count) done();
      };
      messenger.onFile = async (file) => {
        if (printed >= count) return false;
        const { attachment } = file;
        let path: string;
        try {
          path = await saveReceivedFile(io, session, file, run.string('save-dir') ?? '.');
        } catch (error) {
          // A file that is gone or fails verification will never arrive: say so, take the message.
          const refused = error instanceof BlobVerificationError;
          if (!refused && !(error instanceof ChatError && error.code === 'not_found')) throw error;
          io.stderr.write(
            `switchyard: a file from ${file.sender} ${refused ? 'failed verification and was discarded' : 'is no longer on the server'}\n`,
          );
          if (refused) await finishDownload(session, attachment.blob).catch(() => {});
          return true;
        }
        const { name, mediaType, size } = attachment;
        const line = run.flag('json')
          ? JSON.stringify({
              sender: file.sender,
              sentAt: file.sentAt,
              file: { path, name, mediaType, size },
            })
          : `${file.sender}  ${new Date(file.sentAt).toISOString()}  file: ${path}`;
        io.stdout.write(`${line}\n`);
        printed++;
        if (printed >= count) done();
      };
      await session.connect();
      if (printed < count) await finished;
      // Let the batched acks and receipts go out before closing.
      await new Promise((resolve) => setTimeout(resolve, 150));
      messenger.flushReceipts();
      await new Promise((resolve) => setTimeout(resolve, 150));
      await session.close();
      return EXIT.ok;
    });
  },
};
