/**
 * An identity's push targets: the item `#push` in its mailbox partition (contract/schema.ts
 * MAILBOX), beside the owner record. Purging the mailbox (revocation, deletion) removes it with the
 * messages. `wokeAt` is the debounce: one conditional write claims a wake-up and reads the targets.
 *
 *   recipient | key   | targets                                                        | wokeAt
 *   ABCD1234  | #push | {<target id>: {k: kind, u: endpoint|token, p: p256dh, a: auth}} | 1764…
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../protocol/identity.ts';
import { ensurePushTargetId, type PushKind, type PushTarget } from '../../protocol/push-targets.ts';
import type { PushTargetStore, StoredPushTarget } from '../domain/wakeups.ts';
import { conditional, translateAwsError } from './errors.ts';
import { A, type Item, type MailboxTable } from './mailbox/table.ts';

const PUSH = '#push';
/** Attribute names inside one entry of the `targets` map. */
const T = { kind: 'k', address: 'u', p256dh: 'p', auth: 'a' } as const;

function pushKey(identity: IdentityId): Item {
  return { [A.recipient]: identity, [A.key]: PUSH };
}

function entryOf(target: PushTarget): Item {
  return 'endpoint' in target
    ? {
        [T.kind]: target.kind,
        [T.address]: target.endpoint,
        [T.p256dh]: target.p256dh,
        [T.auth]: target.auth,
      }
    : { [T.kind]: target.kind, [T.address]: target.token };
}

function targetsOf(item: Item | undefined): StoredPushTarget[] {
  const map = (item?.[A.targets] ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(map).map(([id, entry]) => {
    const kind = entry[T.kind] as PushKind;
    const address = String(entry[T.address]);
    const target: PushTarget =
      kind === 'webpush' || kind === 'unifiedpush'
        ? {
            kind,
            endpoint: address,
            p256dh: entry[T.p256dh] as Uint8Array,
            auth: entry[T.auth] as Uint8Array,
          }
        : { kind, token: address };
    return { id: ensurePushTargetId(id), target };
  });
}

export function dynamoPushTargetStore(table: MailboxTable): PushTargetStore {
  const update = (
    identity: IdentityId,
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
  ) => new UpdateCommand({ TableName: table.name, Key: pushKey(identity), ...input });
  /** REMOVE `path` when `condition` holds (a no-op otherwise). */
  const removeIf = (
    identity: IdentityId,
    path: string,
    condition: string,
    names: Record<string, string>,
    values?: Item,
  ) =>
    conditional(() =>
      table.dynamo.send(
        update(identity, {
          UpdateExpression: `REMOVE ${path}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(values ? { ExpressionAttributeValues: values } : {}),
        }),
      ),
    );
  return {
    async list(identity) {
      const result = await translateAwsError(() =>
        table.dynamo.send(
          new GetCommand({ TableName: table.name, Key: pushKey(identity), ConsistentRead: true }),
        ),
      );
      return targetsOf(result.Item);
    },

    async put(identity, { id, target }, max) {
      // Make the map first (a no-op when it exists): a nested SET needs its parent.
      await conditional(() =>
        table.dynamo.send(
          update(identity, {
            UpdateExpression: 'SET #t = if_not_exists(#t, :empty)',
            ExpressionAttributeNames: { '#t': A.targets },
            ExpressionAttributeValues: { ':empty': {} },
          }),
        ),
      );
      const stored = await conditional(() =>
        table.dynamo.send(
          update(identity, {
            UpdateExpression: 'SET #t.#id = :entry',
            // Replacing a registered target is always fine; a new one only below the bound.
            ConditionExpression: 'attribute_exists(#t.#id) OR size(#t) < :max',
            ExpressionAttributeNames: { '#t': A.targets, '#id': id },
            ExpressionAttributeValues: { ':entry': entryOf(target), ':max': max },
          }),
        ),
      );
      return stored ? 'stored' : 'full';
    },

    async remove(identity, id) {
      await removeIf(identity, '#t.#id', 'attribute_exists(#t.#id)', { '#t': A.targets, '#id': id });
    },

    async claim(identity, nowSeconds, debounceSeconds) {
      try {
        const result = await table.dynamo.send(
          update(identity, {
            UpdateExpression: 'SET #w = :now',
            ConditionExpression: 'attribute_exists(#t) AND (attribute_not_exists(#w) OR #w <= :since)',
            ExpressionAttributeNames: { '#t': A.targets, '#w': A.wokeAt },
            ExpressionAttributeValues: { ':now': nowSeconds, ':since': nowSeconds - debounceSeconds },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return targetsOf(result.Attributes);
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return undefined;
        return translateAwsError(() => Promise.reject(error));
      }
    },

    async release(identity, nowSeconds) {
      await removeIf(identity, '#w', '#w = :now', { '#w': A.wokeAt }, { ':now': nowSeconds });
    },
  };
}
