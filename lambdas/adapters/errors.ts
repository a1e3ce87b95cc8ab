/**
 * Vendor errors become domain errors here, at the boundary. The original error is kept as `cause`
 * for debugging but never shown to a client or logged (its message may name a key or a table).
 */
import { SwitchyardError } from '../../protocol/errors.ts';

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
  'LimitExceededException',
]);

/** Maps an AWS SDK error to a SwitchyardError: throttling → rate_limited, the rest → unavailable. */
export function fromAwsError(error: unknown): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && THROTTLED.has(name))
    return new SwitchyardError('rate_limited', { cause: error });
  return new SwitchyardError('unavailable', { cause: error });
}

/** Runs an SDK call, translating any failure. */
export async function translateAwsError<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromAwsError(error);
  }
}

/**
 * Runs a conditional write: true when it happened, false when its condition failed (the expected
 * outcome of a lost race or an idempotent retry); any other failure is translated and thrown.
 */
export async function conditional(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    if ((error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException') return false;
    throw fromAwsError(error);
  }
}
