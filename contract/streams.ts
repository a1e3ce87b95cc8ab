/**
 * The mailbox table's stream and the function it feeds (`wakeups`): which records reach the
 * function, in what batches, and how often a failed batch is tried. The CDK stack turns this into
 * the event source mapping (filter criteria, batching, retries, the dead-letter queue); the local
 * runner reads DynamoDB Local's stream with the same filter and invokes the same handler the same
 * way. Pure data: no AWS imports.
 */

/**
 * A wake-up is due when a stored message copy carries `seq` and did not before: a new copy for a
 * recipient the switch could not reach (INSERT), or a copy whose pushes all failed and that the send
 * then marked (MODIFY). A copy for a recipient with a live session is stored without `seq` and never
 * matches. Lambda event filter syntax (the runner evaluates the same pattern, local/streams.ts).
 */
export const WAKE_FILTER_PATTERN = {
  eventName: ['INSERT', 'MODIFY'],
  dynamodb: {
    NewImage: { seq: { S: [{ exists: true }] } },
    OldImage: { seq: { S: [{ exists: false }] } },
  },
} as const;

/** Batching and retries of the event source mapping (and of the runner's stream reader). */
export const WAKE_STREAM = {
  /** Most records in one invocation. */
  batchSize: 100,
  /** Longest wait to fill a batch (seconds): a wake-up is at most this much later. */
  maxBatchingWindowSeconds: 1,
  /** Tries of a failed record after the first, then it goes to the dead-letter queue. */
  retryAttempts: 3,
  /** Records older than this are not tried again (seconds): their wake-up is moot by then. */
  maxRecordAgeSeconds: 60 * 60,
} as const;
