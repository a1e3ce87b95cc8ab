/**
 * Every limit Switchyard enforces, in one table. Handlers, the local runner, the CDK stacks and the
 * tests read them from here; nothing else hard-codes a size, a count or a duration.
 */
export const LIMITS = {
  /** API Gateway WebSocket: largest message a client may send or receive (bytes). */
  wsMessageBytes: 128 * 1024,
  /** API Gateway WebSocket: largest single frame (bytes); longer messages arrive fragmented. */
  wsFrameBytes: 32 * 1024,
  /** API Gateway WebSocket: a connection with no client traffic for this long is closed (ms). */
  wsIdleTimeoutMs: 10 * 60 * 1000,
  /** API Gateway WebSocket: hard lifetime of one connection (ms). */
  wsMaxLifetimeMs: 2 * 60 * 60 * 1000,
  /**
   * A connection record outlives the longest possible connection by this margin (s). `$disconnect`
   * is best effort, so the record carries a TTL and every read treats an expired record as gone.
   */
  connectionRecordSlackSeconds: 10 * 60,
  /** Undelivered messages expire after this many days unless configured otherwise. */
  messageTtlDaysDefault: 14,
  /** Threema Safe: largest backup accepted (bytes), as advertised by `GET config`. */
  safeMaxBackupBytesDefault: 524_288,
  /** Threema Safe: a backup expires this many days after its last PUT. */
  safeRetentionDaysDefault: 180,
  /**
   * Directory: a challenge is answered at most once, within this many seconds. Challenges are
   * issued per time slot of half this length, one for the whole deployment (so nothing is stored per
   * request): a token is good for between half and all of it. Long enough for the proof of work.
   */
  challengeTtlSeconds: 300,
  /** Directory: largest JSON request body (bytes). */
  directoryBodyBytes: 64 * 1024,
  /** Directory: most identities in one bulk lookup. */
  lookupMaxIds: 100,
  /** Directory: most hashes (e-mail and phone together) in one contact-matching request. */
  matchMaxHashes: 256,
  /** Directory: contact-matching hashes one identity may submit per day (the real protection). */
  matchHashesPerDay: 1000,
  /**
   * Directory: proof of work (protocol/work.ts) a registration needs, in leading zero bits, while
   * fewer than `createsPerExtraWorkBit` identities were registered in the current hour; each further
   * `createsPerExtraWorkBit` registrations in that hour double the work. No cap and no refusal: the
   * total per hour grows only with the logarithm of the work spent on it.
   */
  createWorkBits: 14,
  createsPerExtraWorkBit: 1000,
  /**
   * Directory: proof of work a revocation attempt needs, in leading zero bits; every
   * `revocationFailuresPerExtraWorkBit` wrong attempts on an identity in the current UTC day double
   * it, up to `revocationWorkBitsMax`. Never a refusal, so the owner always gets through.
   */
  revocationWorkBits: 14,
  revocationFailuresPerExtraWorkBit: 10,
  revocationWorkBitsMax: 22,
  /** Directory: revocation checks (scrypt, 32 MiB each) one process runs at once; more wait. */
  revocationScryptConcurrency: 2,
  /** Directory: verification codes sent per identity per day. */
  verificationCodesPerDay: 5,
  /** Directory: a verification code is valid this long (seconds) and for this many tries. */
  verificationCodeTtlSeconds: 15 * 60,
  verificationCodeTries: 5,
  /** Directory: revocation passwords, in characters. */
  revocationPasswordMinChars: 8,
  revocationPasswordMaxChars: 256,
  /** Directory: scrypt cost for stored revocation passwords (N, r, p): ~100 ms and 32 MiB per check. */
  revocationScrypt: { N: 32768, r: 8, p: 1 },
  /** Directory: invite tokens issued by the operator stay valid this many days. */
  inviteTtlDays: 30,
  /** Chat: hello and login must both arrive within this many seconds of connecting. */
  loginTimeoutSeconds: 30,
  /**
   * Chat: largest message box (bytes). A push wraps the box in base64, JSON, a secretbox and base64
   * again (≈ 16/9 × the box + 1 KB), which must fit API Gateway's 128 KB message.
   */
  maxBoxBytes: 64 * 1024,
  /** Chat: most recipients of one send (group fan-out). */
  maxRecipients: 32,
  /**
   * Chat: a mailbox holding this many messages is full. A full mailbox refuses only the senders that
   * hold a share of it (`mailboxSenderShare`); everyone else still gets through, so nobody can fill
   * a stranger's mailbox to lock its friends out.
   */
  mailboxMaxMessages: 1000,
  /** Chat: a mailbox holding this many bytes (boxes) is full (see `mailboxMaxMessages`). */
  mailboxMaxBytes: 16 * 1024 * 1024,
  /**
   * Chat: a full mailbox refuses a sender that holds at least 1/this of its message or byte limit
   * in it (100 messages or 1.6 MiB), as its last recount found.
   */
  mailboxSenderShare: 10,
  /**
   * Chat: most senders a recount records as holding their share (the most messages first); the
   * owner record, read by every send, stays under one 4 KB read unit.
   */
  mailboxHeavySendersMax: 100,
  /** Chat: sends one identity may make per minute (each multi-recipient send counts once). */
  sendsPerMinute: 300,
  /** Chat: most messages one ack frame may acknowledge. */
  ackMaxMessages: 50,
  /**
   * Chat: replay protection. A client numbers its session frames 1, 2, 3, … (in the nonce); the
   * server accepts frame n once, and only while no frame n + k × this many (k ≥ 1) was accepted
   * before it: a client keeps fewer than this many frames unanswered.
   */
  replayWindowFrames: 32,
  /** Chat: most live (logged-in) connections one identity may have; a login beyond it closes the oldest. */
  connectionsPerIdentity: 8,
  /**
   * Chat: the send rate window and the mailbox quota counters are sampled: one send in this many
   * (at random, by the server) adds this many to them. The counters are approximate, and exact
   * again whenever a mailbox is recounted.
   */
  quotaSampleEvery: 8,
  /** Chat: a full mailbox is recounted (expired messages no longer count) at most this often (s). */
  mailboxRecountSeconds: 60,
  /** Chat: one pull answer carries at most this many messages and this many box bytes. */
  pullPageMessages: 50,
  pullPageBytes: 64 * 1024,
  /** Chat: how long a short-lived message (flag 0x20) waits for its recipient (seconds). */
  shortLivedSeconds: 60,
  /** Vault: largest JSON request body (bytes). */
  vaultBodyBytes: 4 * 1024,
  /** Vault: most wrong passwords a vault allows before it is deleted for good (the owner picks 1…this). */
  vaultMaxTries: 10,
  /** Vault: a login must be finished within this many seconds of its start. */
  vaultLoginTtlSeconds: 120,
  /**
   * Vault: proof of work a code request needs (leading zero bits); every
   * `vaultCodesPerExtraWorkBit` codes requested for one identity in the current UTC day double it, up
   * to `vaultCodeWorkBitsMax`. Never a refusal, so the owner always gets a code.
   */
  vaultCodeWorkBits: 14,
  vaultCodesPerExtraWorkBit: 5,
  vaultCodeWorkBitsMax: 22,
  /**
   * Media: largest blob (bytes, encrypted) one upload may declare, unless configured otherwise. The
   * presigned POST policy makes S3 itself refuse any other size.
   */
  mediaMaxBlobBytesDefault: 50 * 1024 * 1024,
  /** Media: S3 refuses a POST upload over 5 GB, so no setting may allow more. */
  mediaMaxBlobBytesLimit: 5 * 1024 * 1024 * 1024,
  /** Media: a blob is deleted this many days after its upload was granted, downloaded or not. */
  mediaTtlDaysDefault: 14,
  /**
   * Media: bytes one identity may have in flight (granted uploads not yet deleted), unless configured
   * otherwise. Charged to the uploader only, so nobody can fill another identity's quota.
   */
  mediaQuotaBytesDefault: 512 * 1024 * 1024,
  /** Media: blobs one identity may have in flight. */
  mediaBlobsInFlight: 100,
  /** Media: a presigned upload (POST policy) is valid this long (seconds). */
  mediaUploadUrlSeconds: 60 * 60,
  /** Media: a presigned download URL is valid this long (seconds), never past the blob's expiry. */
  mediaDownloadUrlSeconds: 15 * 60,
  /**
   * Push wake-ups: most push targets (devices, browsers) one identity may register. Only the owner
   * registers its own, over its own session: nobody else can fill it.
   */
  pushTargetsPerIdentity: 10,
  /** Push wake-ups: longest Web Push / UnifiedPush endpoint URL (bytes). */
  pushEndpointBytes: 1024,
  /** Push wake-ups: longest FCM registration token or APNs device token (characters). */
  pushTokenChars: 4096,
  /** Push wake-ups: at most one wake-up per recipient this often (seconds), unless configured otherwise. */
  pushDebounceSecondsDefault: 30,
  /** Push wake-ups: how long a push service keeps an undelivered wake-up (seconds; Web Push `TTL`). */
  pushWakeTtlSeconds: 24 * 60 * 60,
  /** Largest HTTP request body any route reads (bytes); routes may set a lower bound. */
  httpBodyBytes: 10 * 1024 * 1024,
} as const;

export type Limits = typeof LIMITS;

/**
 * How often a client sends the `echo` keep-alive when it sends nothing else (ms): one minute inside
 * API Gateway's idle timeout, so a timer that fires late (a busy event loop, a browser's throttled
 * background tab) still lands in time. Each echo costs two API Gateway messages, so this is as
 * rare as the idle timeout allows.
 */
export const KEEP_ALIVE_MS = LIMITS.wsIdleTimeoutMs - 60 * 1000;
