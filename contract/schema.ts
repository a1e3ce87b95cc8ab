/**
 * The one schema module: table keys, attribute names, TTL attributes and the Safe bucket's layout.
 * The CDK stateful stack, the adapters, the local runner's provisioning and sweeper, and the tests
 * all read it, so a name changes in one place only. Attribute names appear nowhere else.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** A global secondary index; sparse when its key attribute is optional. */
export interface IndexSchema {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Non-key attributes copied into the index (the table's keys always are). */
  readonly include: readonly string[];
}

/** A local secondary index: same partition, another sort key; every attribute projected. */
export interface LocalIndexSchema {
  readonly indexName: string;
  readonly sortKey: KeyAttribute;
}

export interface TableSchema {
  /** Logical name: the CDK construct id and, locally, the suffix of the physical table name. */
  readonly logicalName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Global secondary indexes. */
  readonly indexes?: readonly IndexSchema[];
  /** Local secondary indexes (only at table creation). */
  readonly localIndexes?: readonly LocalIndexSchema[];
  /** Attribute holding the expiry time in epoch seconds, or undefined when items never expire. */
  readonly ttlAttribute?: string;
  /**
   * Point-in-time recovery. Off where it would keep deleted data (delivered messages, sessions)
   * restorable for 35 days, which would break delete-on-delivery.
   */
  readonly pointInTimeRecovery: boolean;
  /**
   * A DynamoDB stream with the item images a stream function reads (contract/streams.ts); absent:
   * no stream. The local runner reads DynamoDB Local's stream of the same table.
   */
  readonly stream?: 'NEW_AND_OLD_IMAGES';
}

export const IDENTITIES = {
  logicalName: 'identities',
  partitionKey: { name: 'identity', type: 'S' },
  // Sparse indexes for contact matching: only identities that linked an address appear in them.
  indexes: [
    {
      indexName: 'byEmailHash',
      partitionKey: { name: 'emailHash', type: 'B' },
      include: ['state', 'publicKey'],
    },
    {
      indexName: 'byMobileNoHash',
      partitionKey: { name: 'mobileNoHash', type: 'B' },
      include: ['state', 'publicKey'],
    },
  ],
  pointInTimeRecovery: true,
  attributes: {
    identity: 'identity',
    publicKey: 'publicKey',
    state: 'state',
    featureMask: 'featureMask',
    issueDate: 'issueDate',
    lastLogin: 'lastLogin',
    emailHash: 'emailHash',
    mobileNoHash: 'mobileNoHash',
    revocation: 'revocation',
  },
} as const satisfies TableSchema & { attributes: Record<string, string> };

/**
 * One partition per recipient. A message's sort key is `m#<sender>#<message id hex>`, so a retried
 * send (same sender, same id) hits the same item and a conditional put stores it once; the
 * `byArrival` index orders the waiting messages by `seq` (server arrival time + random suffix) for
 * delivery; it is sparse: a copy pushed to a live session has no `seq` unless no push reached it. The item `#owner` is the mailbox's owner record: whether the identity may receive
 * (`active`), its live sessions (connection id → session key and expiry) for pushes, and the
 * approximate quota counters (`count`, `bytes`, `recountedAt`, and `heavy`: the senders the last
 * recount of a full mailbox found holding their share), so one read tells a send all it
 * needs about a recipient. The item `#push` holds the identity's push targets (`targets`: target id
 * → kind, address, keys) and when it was last woken (`wokeAt`, the debounce); purging the mailbox
 * removes it with the messages. The table's stream feeds the `wakeups` function.
 */
export const MAILBOX = {
  logicalName: 'mailbox',
  partitionKey: { name: 'recipient', type: 'S' },
  sortKey: { name: 'key', type: 'S' },
  localIndexes: [{ indexName: 'byArrival', sortKey: { name: 'seq', type: 'S' } }],
  ttlAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  stream: 'NEW_AND_OLD_IMAGES',
  attributes: {
    recipient: 'recipient',
    key: 'key',
    seq: 'seq',
    sender: 'sender',
    messageId: 'messageId',
    nonce: 'nonce',
    box: 'box',
    flags: 'flags',
    sentAt: 'sentAt',
    bytes: 'bytes',
    count: 'count',
    expiresAt: 'expiresAt',
    active: 'active',
    sessions: 'sessions',
    recountedAt: 'recountedAt',
    heavy: 'heavy',
    targets: 'targets',
    wokeAt: 'wokeAt',
  },
} as const satisfies TableSchema & { attributes: Record<string, string> };

/**
 * One item per WebSocket connection. After `hello` it holds the handshake's temporary server key;
 * after `login` the identity and the session key (the temporary secret is removed). An identity's
 * live sessions are listed in its mailbox's owner record, not found through an index of this table:
 * the `byIdentity` index that did that until 2026-12 copied every session key into an index nobody
 * read, at two index writes a session.
 */
export const CONNECTIONS = {
  logicalName: 'connections',
  partitionKey: { name: 'connectionId', type: 'S' },
  indexes: [
    // Connections that have not logged in yet, by connect time, for the login-deadline reaper.
    // The key is one of PENDING_SHARDS, at random, so new connections spread over partitions.
    {
      indexName: 'byPending',
      partitionKey: { name: 'pending', type: 'S' },
      sortKey: { name: 'connectedAt', type: 'N' },
      include: [],
    },
  ],
  ttlAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  attributes: {
    connectionId: 'connectionId',
    connectedAt: 'connectedAt',
    expiresAt: 'expiresAt',
    state: 'state',
    serverTempSecret: 'serverTempSecret',
    clientTempPublic: 'clientTempPublic',
    serverCookie: 'serverCookie',
    identity: 'identity',
    sessionKey: 'sessionKey',
    pending: 'pending',
    /** The highest frame counter accepted in each of LIMITS.replayWindowFrames slots (counter mod slots). */
    replay: 'replay',
    /** Epoch seconds until which the connection's sends are refused (its identity used up its send rate). */
    blockedUntil: 'blockedUntil',
  },
} as const satisfies TableSchema & { attributes: Record<string, string> };

/** Values of CONNECTIONS' `pending` attribute: a connection not yet logged in carries one at random. */
export const PENDING_SHARDS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'] as const;

/**
 * Short-lived directory state under one key attribute: challenges (`challenge:<slot>`), used proofs
 * and work stamps (`used:…`), rate-limit
 * windows (`rate:…`), operator invites (`invite:…`) and pending address links (`link:…`). Every
 * item carries a TTL; nothing here is worth restoring, so no point-in-time recovery.
 */
export const EPHEMERAL = {
  logicalName: 'ephemeral',
  partitionKey: { name: 'key', type: 'S' },
  ttlAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  attributes: {
    key: 'key',
    expiresAt: 'expiresAt',
    count: 'count',
    secret: 'secret',
    purpose: 'purpose',
    subject: 'subject',
    hash: 'hash',
    codeDigest: 'codeDigest',
    tries: 'tries',
  },
} as const satisfies TableSchema & { attributes: Record<string, string> };

/**
 * The backup key vault (docs/PROTOCOL.md, "Vault"): one partition per identity. Its items, by sort
 * key: `record` (the OPAQUE registration record, the client's wrapped key, the tries left and a
 * version that changes on every store), `login#<hex>` (a login in progress: a copy of the record
 * it counted against and the server's login state, single use, short TTL) and `code#<hex>` (a
 * verification code that unlocks one attempt). Point-in-time recovery is off and nothing backs it
 * up: a restored copy would bring back tries that were spent (docs/OPERATIONS.md).
 */
export const VAULT = {
  logicalName: 'vault',
  partitionKey: { name: 'identity', type: 'S' },
  sortKey: { name: 'item', type: 'S' },
  ttlAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  attributes: {
    identity: 'identity',
    item: 'item',
    registration: 'registration',
    credential: 'credential',
    wrapped: 'wrapped',
    tries: 'tries',
    maxTries: 'maxTries',
    version: 'version',
    state: 'state',
    decoy: 'decoy',
    codeDigest: 'codeDigest',
    codeTries: 'codeTries',
    expiresAt: 'expiresAt',
  },
} as const satisfies TableSchema & { attributes: Record<string, string> };

/**
 * Media blobs in flight (docs/PROTOCOL.md, "Media blobs"). One item per blob, keyed `b#<blob id
 * hex>`: its uploader, its size, the recipients that have not reported "done" yet, and its expiry
 * (TTL). One counter item per uploader, keyed `q#<identity>`, holds the uploader's blobs and bytes in
 * flight for the quota; TTL deletes blob items without decrementing it, so a full counter is
 * recounted from the sparse `byOwner` index (only blob items carry `owner`). The bytes themselves are
 * in the media bucket, never here.
 */
export const BLOBS = {
  logicalName: 'blobs',
  partitionKey: { name: 'key', type: 'S' },
  indexes: [
    {
      indexName: 'byOwner',
      partitionKey: { name: 'owner', type: 'S' },
      include: ['size', 'expiresAt'],
    },
  ],
  ttlAttribute: 'expiresAt',
  pointInTimeRecovery: false,
  attributes: {
    key: 'key',
    owner: 'owner',
    size: 'size',
    recipients: 'recipients',
    expiresAt: 'expiresAt',
    count: 'count',
    bytes: 'bytes',
  },
} as const satisfies TableSchema & { attributes: Record<string, string> };

/** Every table, keyed by logical name. */
export const TABLES = {
  identities: IDENTITIES,
  mailbox: MAILBOX,
  connections: CONNECTIONS,
  ephemeral: EPHEMERAL,
  vault: VAULT,
  blobs: BLOBS,
} as const satisfies Record<string, TableSchema>;

export type TableName = keyof typeof TABLES;

export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** The Safe bucket: every backup is one object under this prefix, named by its backup id. */
export const SAFE_BUCKET = {
  logicalName: 'safe',
  backupPrefix: 'backups/',
} as const;

/**
 * The media bucket: every blob is one object under this prefix, named by its blob id (32 lowercase
 * hex). A bucket of its own, not a prefix of the Safe bucket: it has its own lifecycle, and CORS for
 * the browser client (when configured) must not reach the backups.
 */
export const MEDIA_BUCKET = {
  logicalName: 'media',
  blobPrefix: 'blobs/',
} as const;

/**
 * Physical table names used by the local runner and the tests (AWS lets CloudFormation name them).
 * A prefix (see LOCAL_NAME_PREFIX) lets several runners share one DynamoDB Local, each with its own tables.
 */
export function localTableName(table: TableName, prefix = ''): string {
  return `${prefix ? `${prefix}-` : ''}switchyard-${table}`;
}

/** Physical bucket name used by the local runner and the tests. */
export const LOCAL_SAFE_BUCKET = 'switchyard-safe';

/** The Safe bucket's physical name under a local name prefix (LOCAL_SAFE_BUCKET without one). */
export function localSafeBucket(prefix = ''): string {
  return `${prefix ? `${prefix}-` : ''}${LOCAL_SAFE_BUCKET}`;
}

/** The physical name of the local media bucket under a local name prefix. */
export function localMediaBucket(prefix = ''): string {
  return `${prefix ? `${prefix}-` : ''}switchyard-media`;
}

/**
 * A local name prefix: lowercase letters, digits and inner hyphens, short enough that every table
 * and bucket name stays valid (S3 bucket names: 3–63 characters of that alphabet).
 */
export const LOCAL_NAME_PREFIX = /^(?:[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)?$/;
