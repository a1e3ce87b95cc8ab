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
  /** Largest `data` string an `echo` keep-alive may carry (characters). */
  echoDataChars: 64,
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
  /** Chat: most recipients of one send (group fan-out); two transaction items each, within DynamoDB's 100. */
  maxRecipients: 32,
  /** Chat: most messages a mailbox holds before sends to it are refused. */
  mailboxMaxMessages: 1000,
  /** Chat: most bytes (boxes) a mailbox holds before sends to it are refused. */
  mailboxMaxBytes: 16 * 1024 * 1024,
  /** Chat: sends one identity may make per minute (each multi-recipient send counts once). */
  sendsPerMinute: 300,
  /** Chat: most messages one ack frame may acknowledge (one transaction with the counter). */
  ackMaxMessages: 50,
  /** Chat: one pull answer carries at most this many messages and this many box bytes. */
  pullPageMessages: 50,
  pullPageBytes: 64 * 1024,
  /** Chat: how long a short-lived message (flag 0x20) waits for its recipient (seconds). */
  shortLivedSeconds: 60,
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
  /** Largest HTTP request body any route reads (bytes); routes may set a lower bound. */
  httpBodyBytes: 10 * 1024 * 1024,
} as const;

export type Limits = typeof LIMITS;
