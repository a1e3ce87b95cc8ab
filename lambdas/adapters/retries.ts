/** Retrying DynamoDB writes that lost a race: transaction cancellations and unprocessed batches. */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SwitchyardError } from '../../protocol/errors.ts';

/** The per-item cancellation reasons of a cancelled transaction, or undefined for any other error. */
export function cancellationCodes(error: unknown): string[] | undefined {
  const cause = (error as { cause?: unknown }).cause ?? error;
  if (!(cause instanceof TransactionCanceledException)) return undefined;
  return (cause.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

/**
 * Waits before retry number `attempt` (1, 2, …): exponential with full jitter, so writers that
 * conflicted on the same item (a mailbox counter, a sender's rate window) spread out instead of
 * colliding again in lockstep.
 */
export function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 25 * 2 ** attempt)));
}

/** Runs `run` until it returns a value; out of attempts is `unavailable` (503, retry later), not `internal`. */
export async function withRetries<T>(
  attempts: number,
  run: (attempt: number) => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const result = await run(attempt);
    if (result !== undefined) return result;
  }
  throw new SwitchyardError('unavailable');
}
