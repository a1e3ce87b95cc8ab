/**
 * What each Lambda function is: its entry file, the routes it serves and the exact access it
 * needs. The CDK API stack turns this into functions, routes, environment and grants; the local
 * runner turns it into the same routes on its own HTTP and WebSocket servers; the AWS entry files
 * read it to know which configuration to parse at cold start. Pure data: no AWS imports.
 */
import { ECHO_FRAME } from '../protocol/frames.ts';
import type { TableName } from './schema.ts';

/** DynamoDB actions a function may be granted on one table (and its indexes). */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:BatchWriteItem'
  | 'dynamodb:ConditionCheckItem';

/** S3 actions a function may be granted on the Safe bucket's backup objects. */
export type BucketAction = 's3:GetObject' | 's3:PutObject' | 's3:DeleteObject';

export interface FunctionSpec {
  /** Entry file, relative to the repository root; exports `handler`. */
  readonly entry: string;
  /** HTTP API route keys (`METHOD /path`, `{param}` and `{proxy+}` as in API Gateway). */
  readonly httpRoutes: readonly string[];
  /** WebSocket API route keys (`$connect`, `$disconnect`, `$default` or an `action` value). */
  readonly wsRoutes: readonly string[];
  /** Exact DynamoDB actions per table. */
  readonly tables: Partial<Record<TableName, readonly TableAction[]>>;
  /** Exact S3 actions on the Safe bucket's backup objects. */
  readonly safeBucket: readonly BucketAction[];
  /**
   * Exact S3 actions on the media bucket's blob objects. A function that presigns needs the action
   * the URL performs (`s3:PutObject` for an upload policy, `s3:GetObject` for a download): S3 checks
   * the signer's permission when the URL is used. Absent: none.
   */
  readonly mediaBucket?: readonly BucketAction[];
  /**
   * Whether the function presigns media URLs with its `mediaBucket` actions (upload policies, download
   * URLs) rather than calling S3 itself. Absent: false.
   */
  readonly presignsMedia?: boolean;
  /** Whether the function pushes to other connections through the `@connections` API. */
  readonly manageConnections: boolean;
  /**
   * Whether the function reads the Safe's optional Basic auth secret. When the deployment
   * configures one, the stack grants `secretsmanager:GetSecretValue` on that secret only and sets
   * `SAFE_BASIC_AUTH_SECRET_ARN` (lambdas/runtime/env.ts `ENV.safeBasicAuthSecretArn`).
   */
  readonly readsSafeAuthSecret?: boolean;
  /**
   * Whether the function uses the server's long-term key (the chat handshake). The stack grants
   * `secretsmanager:GetSecretValue` on the server key secret only and sets `SERVER_KEY_SECRET_ARN`.
   */
  readonly readsServerKey?: boolean;
  /**
   * Whether the function sends verification codes (directory linking). When the deployment
   * configures them, the stack sets `VERIFICATION_EMAIL_FROM` / `VERIFICATION_SMS` and grants
   * `ses:SendEmail` on the sender's SES identities and/or `sns:Publish` (lib/constructs/manifest-function.ts).
   */
  readonly sendsVerificationCodes?: boolean;
  /**
   * An EventBridge schedule expression (`rate(1 minute)`) for functions that run on a timer instead
   * of a route; the local runner invokes them on an interval of its own.
   */
  readonly schedule?: string;
  /**
   * Reserved concurrency (Lambda): the most instances of this function that run at once, which
   * also reserves them from the account's pool. For functions whose work one anonymous client can
   * make expensive (a scrypt per revocation), so a flood is throttled there instead of starving the
   * other functions.
   */
  readonly reservedConcurrency?: number;
  /**
   * Whether the function holds the vault's OPRF server setup (the backup key vault). The stack
   * creates that secret with its own customer-managed KMS key whose policy lets only this
   * function's role use it, grants `GetSecretValue` and `PutSecretValue` (the function makes the
   * setup on first use) on that secret only, and sets `VAULT_SETUP_SECRET_ARN`.
   */
  readonly holdsVaultSetup?: boolean;
  /**
   * The push wake-up credentials the function uses: `vapid` the VAPID key pair only (a secret the
   * function fills on first use; the stack grants GetSecretValue and PutSecretValue on it and sets
   * `PUSH_VAPID_SECRET_ARN`); `all` also the FCM and APNs secrets the deployment configures
   * (GetSecretValue on each). The configured kinds are told to both.
   */
  readonly pushCredentials?: 'vapid' | 'all';
  /**
   * The table whose DynamoDB stream invokes this function (contract/streams.ts: filter, batching,
   * retries); the stack adds the event source mapping and its dead-letter queue, the local runner
   * its stream reader.
   */
  readonly stream?: TableName;
}

/** The directory's table access, shared by `directory` and `revoke` (the same code). */
const DIRECTORY_TABLES = {
  identities: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
  ],
  ephemeral: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  // Revocation and deletion close the mailbox (its owner record lists the live sessions) and purge
  // the waiting messages and push targets (the data export reads those: GetItem)…
  mailbox: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  // …and forget the closed sessions.
  connections: ['dynamodb:DeleteItem'],
} as const satisfies FunctionSpec['tables'];

export const FUNCTIONS = {
  wsConnect: {
    entry: 'lambdas/entry/ws-connect.ts',
    httpRoutes: [],
    wsRoutes: ['$connect'],
    tables: { connections: ['dynamodb:PutItem'] },
    safeBucket: [],
    manageConnections: false,
  },
  wsDisconnect: {
    entry: 'lambdas/entry/ws-disconnect.ts',
    httpRoutes: [],
    wsRoutes: ['$disconnect'],
    // Forgets the connection, and takes its session off its identity's owner record.
    tables: { connections: ['dynamodb:DeleteItem'], mailbox: ['dynamodb:UpdateItem'] },
    safeBucket: [],
    manageConnections: false,
  },
  wsDefault: {
    entry: 'lambdas/entry/ws-default.ts',
    httpRoutes: [],
    wsRoutes: ['$default'],
    // An unknown action after login is answered sealed, with the connection's session key.
    tables: { connections: ['dynamodb:GetItem'] },
    safeBucket: [],
    manageConnections: false,
  },
  safe: {
    entry: 'lambdas/entry/safe.ts',
    // The catch-all makes every path under /safe/ answer with a Safe error (404, 405) instead of
    // API Gateway's bare "Not Found"; the two specific routes win over it (route precedence).
    httpRoutes: ['GET /safe/config', 'ANY /safe/backups/{id}', 'ANY /safe/{proxy+}'],
    wsRoutes: [],
    tables: {},
    // HEAD needs s3:GetObject too. No s3:ListBucket: a missing key then reads as 403 (see
    // lambdas/adapters/backups.ts), which the adapter treats as "absent".
    safeBucket: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
    manageConnections: false,
    readsSafeAuthSecret: true,
  },
  wsHello: {
    entry: 'lambdas/entry/ws-hello.ts',
    httpRoutes: [],
    wsRoutes: ['hello'],
    tables: { connections: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    safeBucket: [],
    manageConnections: false,
    readsServerKey: true,
  },
  wsLogin: {
    entry: 'lambdas/entry/ws-login.ts',
    httpRoutes: [],
    wsRoutes: ['login'],
    tables: {
      connections: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      identities: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      // Lists the session on its identity's owner record (made on first use).
      mailbox: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    },
    safeBucket: [],
    // Closes the oldest sessions beyond LIMITS.connectionsPerIdentity.
    manageConnections: true,
    readsServerKey: true,
  },
  wsSend: {
    entry: 'lambdas/entry/ws-send.ts',
    httpRoutes: [],
    wsRoutes: ['send'],
    tables: {
      // The frame's acceptance (one conditional update; a read only to say why it was refused),
      // the rate block, and removal of stale recipient sessions after a 410.
      connections: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
      // Recipients from before owner records: checked once, when their owner record is made.
      identities: ['dynamodb:BatchGetItem'],
      // The recipients' owner records (read; counters; stale sessions), the copies (conditional
      // puts), and the recount of a full mailbox.
      mailbox: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      // The sender's sampled rate window.
      ephemeral: ['dynamodb:UpdateItem'],
    },
    safeBucket: [],
    manageConnections: true,
  },
  wsAck: {
    entry: 'lambdas/entry/ws-ack.ts',
    httpRoutes: [],
    wsRoutes: ['ack'],
    tables: {
      connections: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      // Batched deletes of the acked messages; no read, no counter.
      mailbox: ['dynamodb:BatchWriteItem'],
    },
    safeBucket: [],
    manageConnections: false,
  },
  wsPull: {
    entry: 'lambdas/entry/ws-pull.ts',
    httpRoutes: [],
    wsRoutes: ['pull'],
    tables: { connections: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], mailbox: ['dynamodb:Query'] },
    safeBucket: [],
    manageConnections: false,
  },
  /**
   * The media blob routes (docs/PROTOCOL.md, "Media blobs"): session frames on the chat socket, so an
   * upload is granted to the identity that logged in. The function hands out presigned S3 URLs and
   * deletes blobs; the bytes go between clients and S3 and never through a function.
   */
  wsBlob: {
    entry: 'lambdas/entry/ws-blob.ts',
    httpRoutes: [],
    wsRoutes: ['blobUpload', 'blobDownload', 'blobDone'],
    tables: {
      // The frame's acceptance (session and replay slot: one conditional update; a read to say why not).
      connections: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      // The blob records and the uploaders' quota counters (recounted from byOwner when full).
      blobs: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
    },
    safeBucket: [],
    // PutObject signs upload policies, GetObject download URLs; DeleteObject on "done". No ListBucket.
    mediaBucket: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'],
    presignsMedia: true,
    manageConnections: false,
  },
  /**
   * Push targets (docs/PROTOCOL.md, "Push wake-ups"): session frames on the chat socket, so only the
   * logged-in owner registers, removes and lists its own targets (the `#push` item of its mailbox).
   */
  wsPushTargets: {
    entry: 'lambdas/entry/ws-push-targets.ts',
    httpRoutes: [],
    wsRoutes: ['pushTargetAdd', 'pushTargetRemove', 'pushTargetList'],
    tables: {
      // The frame's acceptance (session and replay slot: one conditional update; a read to say why not).
      connections: ['dynamodb:UpdateItem', 'dynamodb:GetItem'],
      mailbox: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    },
    safeBucket: [],
    manageConnections: false,
    pushCredentials: 'vapid',
  },
  /**
   * Content-free wake-ups, off the send path: the mailbox table's stream (only copies for recipients
   * the switch could not reach) invokes it in batches; it reads the recipient's owner record (online:
   * nothing), claims the debounce on the `#push` item, sends, and removes gone targets.
   */
  wakeups: {
    entry: 'lambdas/entry/wakeups.ts',
    httpRoutes: [],
    wsRoutes: [],
    tables: { mailbox: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
    safeBucket: [],
    manageConnections: false,
    pushCredentials: 'all',
    stream: 'mailbox',
  },
  reaper: {
    entry: 'lambdas/entry/reaper.ts',
    httpRoutes: [],
    wsRoutes: [],
    // Finds connections past the login deadline on the sparse byPending index and closes them.
    tables: { connections: ['dynamodb:Query', 'dynamodb:DeleteItem'] },
    safeBucket: [],
    manageConnections: true,
    schedule: 'rate(1 minute)',
  },
  directory: {
    entry: 'lambdas/entry/directory.ts',
    httpRoutes: ['ANY /directory/{proxy+}'],
    wsRoutes: [],
    tables: DIRECTORY_TABLES,
    safeBucket: [],
    manageConnections: true,
    sendsVerificationCodes: true,
  },
  /**
   * `POST /directory/revoke` on its own (the specific route wins over the directory's catch-all):
   * each attempt costs a scrypt (32 MiB, ~0.1 s) that anyone can cause by paying proof of work, so
   * its concurrency is reserved and capped: a flood is throttled here (429, the owner's SDK asks
   * again) and cannot starve lookups, owner operations or the chat. At most 4 × 2 scrypts at once.
   * Same code and grants as `directory` (revocation purges the mailbox and closes sessions).
   */
  revoke: {
    entry: 'lambdas/entry/revoke.ts',
    httpRoutes: ['POST /directory/revoke'],
    wsRoutes: [],
    tables: DIRECTORY_TABLES,
    safeBucket: [],
    manageConnections: true,
    reservedConcurrency: 4,
  },
  /**
   * The backup key vault, `/vault/…`: OPAQUE registration and login against the vault table. Its own
   * function because it alone holds the OPRF server setup (a KMS key only its role may use), and
   * its concurrency is reserved so a flood of attempts is throttled here and starves nothing else.
   * It reads identities and challenges to check proofs of key possession, and sends the
   * verification codes that unlock attempts.
   */
  vault: {
    entry: 'lambdas/entry/vault.ts',
    httpRoutes: ['ANY /vault/{proxy+}'],
    wsRoutes: [],
    tables: {
      vault: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:BatchWriteItem',
      ],
      identities: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      ephemeral: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    },
    safeBucket: [],
    manageConnections: false,
    sendsVerificationCodes: true,
    holdsVaultSetup: true,
    reservedConcurrency: 4,
  },
  /**
   * `GET /health` for an external monitor: one GetItem per table on a key no item has and, per
   * bucket, one GET of an object nothing stores (lambdas/adapters/health.ts), so it reaches every
   * table and both buckets and reads no user data. Anyone may call it: its concurrency is capped, so a flood is
   * throttled here and costs at most a few reads per call.
   */
  health: {
    entry: 'lambdas/entry/health.ts',
    httpRoutes: ['GET /health'],
    wsRoutes: [],
    tables: {
      identities: ['dynamodb:GetItem'],
      mailbox: ['dynamodb:GetItem'],
      connections: ['dynamodb:GetItem'],
      ephemeral: ['dynamodb:GetItem'],
      vault: ['dynamodb:GetItem'],
      blobs: ['dynamodb:GetItem'],
    },
    safeBucket: ['s3:GetObject'],
    mediaBucket: ['s3:GetObject'],
    manageConnections: false,
    reservedConcurrency: 2,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/**
 * WebSocket routes the gateway answers by itself, with no function behind them: route key → the
 * exact frame sent back to the caller. On AWS each is a MOCK integration whose integration response
 * and route response return the frame; the local runner's gateway does the same without invoking a
 * handler. The keep-alive is one: it costs two API Gateway messages and no Lambda invocation.
 */
export const MOCK_WS_ROUTES: Readonly<Record<string, string>> = { echo: ECHO_FRAME };

/**
 * The WebSocket API's stage name, on AWS and locally. Clients connect to `…/ws`, and the
 * `@connections` endpoint is `https://{api}/ws` (locally `http://127.0.0.1:{port}/ws`).
 */
export const WS_STAGE = 'ws';
