/**
 * The `wakeups` function: a batch of the mailbox table's stream records (contract/streams.ts) →
 * one wake-up per recipient at most. A record whose recipient could not be woken for now is
 * reported as a batch item failure, so Lambda (or the local runner) tries it again, and after the
 * last try it goes to the dead-letter queue. Nothing here touches a message: the send finished long
 * before, and a failure here never holds a message back.
 */
import type { StreamEvent, StreamResult } from '../../contract/events.ts';
import { MAILBOX } from '../../contract/schema.ts';
import { type IdentityId, isIdentityId } from '../../protocol/identity.ts';
import type { Wakeups } from '../domain/wakeups.ts';

const { recipient: RECIPIENT, key: KEY, seq: SEQ } = MAILBOX.attributes;

type Record_ = StreamEvent['Records'][number];

/**
 * The recipient a record asks to wake, or undefined: a message copy (`m#…`) that carries `seq` now
 * and did not before. The event source's filter already passes only these; checked again here so the
 * handler is right on its own.
 */
export function wakeRecipient(record: Record_): IdentityId | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const next = record.dynamodb?.NewImage;
  const before = record.dynamodb?.OldImage;
  if (!next?.[SEQ]?.S || before?.[SEQ]?.S) return undefined;
  if (!next[KEY]?.S?.startsWith('m#')) return undefined;
  const recipient = next[RECIPIENT]?.S;
  return isIdentityId(recipient) ? recipient : undefined;
}

export function makeWakeupHandler(deps: { readonly wakeups: Wakeups }) {
  return async (event: StreamEvent): Promise<StreamResult> => {
    const byRecipient = new Map<IdentityId, Record_[]>();
    for (const record of event.Records) {
      const recipient = wakeRecipient(record);
      if (recipient) byRecipient.set(recipient, [...(byRecipient.get(recipient) ?? []), record]);
    }
    const failed: Record_[] = [];
    await Promise.all(
      [...byRecipient].map(async ([recipient, records]) => {
        const result = await deps.wakeups.wake(recipient).catch(() => 'failed' as const);
        if (result === 'failed') failed.push(...records);
      }),
    );
    return {
      batchItemFailures: failed.map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' })),
    };
  };
}
