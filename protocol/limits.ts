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
  /** Largest HTTP request body any route reads (bytes); routes may set a lower bound. */
  httpBodyBytes: 10 * 1024 * 1024,
} as const;

export type Limits = typeof LIMITS;
