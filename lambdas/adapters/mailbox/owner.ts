/**
 * A mailbox's owner record (`#owner` in the recipient's partition): whether it receives, its live
 * sessions for pushes, the approximate quota counters, and the senders the last recount of a full
 * mailbox found holding their share of it. One strongly consistent read of it is all a send needs
 * to know about a recipient.
 *
 *   recipient | key    | active | sessions                                  | count | bytes | recountedAt | heavy
 *   ABCD1234  | #owner | true   | {<connection id>: {k: <session key>, e: <expiry, epoch s>}, …} | 12 | 9000 | … | [<sender>, …]
 *
 * A revoked or deleted identity keeps a closed record (`active` false, no sessions) for good, so a
 * login or a send racing the revocation can't open the mailbox again.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import type { LiveSession, MailboxCount, OwnerState } from '../../domain/chat.ts';
import { conditional, translateAwsError } from '../errors.ts';
import { pages } from '../paging.ts';
import { A, type Item, type MailboxTable, ownerKey } from './table.ts';

/** Attribute names inside a session entry of the `sessions` map. */
const S = { key: 'k', expiresAt: 'e' } as const;

function sessionsOf(item: Item): LiveSession[] {
  const map = (item[A.sessions] ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(map).map(([connectionId, entry]) => ({
    connectionId,
    sessionKey: entry[S.key] as Uint8Array,
    expiresAt: Number(entry[S.expiresAt]),
  }));
}

export async function readOwner(table: MailboxTable, identity: IdentityId): Promise<OwnerState | undefined> {
  const result = await translateAwsError(() =>
    table.dynamo.send(
      new GetCommand({ TableName: table.name, Key: ownerKey(identity), ConsistentRead: true }),
    ),
  );
  const item = result.Item;
  if (!item) return undefined;
  return {
    active: item[A.active] === true,
    sessions: sessionsOf(item),
    count: Number(item[A.count] ?? 0),
    bytes: Number(item[A.bytes] ?? 0),
    heavy: (item[A.heavy] ?? []) as IdentityId[],
  };
}

/** Creates an active, empty owner record unless one exists (open or closed). */
export async function openOwner(table: MailboxTable, identity: IdentityId): Promise<void> {
  await conditional(() =>
    table.dynamo.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...ownerKey(identity), [A.active]: true, [A.sessions]: {}, [A.count]: 0, [A.bytes]: 0 },
        ConditionExpression: 'attribute_not_exists(#k)',
        ExpressionAttributeNames: { '#k': A.key },
      }),
    ),
  );
}

/** Closes the mailbox for good; returns the sessions it listed (to be disconnected). */
export async function closeOwner(table: MailboxTable, identity: IdentityId): Promise<string[]> {
  const result = await translateAwsError(() =>
    table.dynamo.send(
      new PutCommand({
        TableName: table.name,
        Item: { ...ownerKey(identity), [A.active]: false, [A.sessions]: {} },
        ReturnValues: 'ALL_OLD',
      }),
    ),
  );
  return result.Attributes ? sessionsOf(result.Attributes).map((session) => session.connectionId) : [];
}

/** Opens a closed owner record again (a lifted operator block); a no-op when there is none. */
export async function reopenOwner(table: MailboxTable, identity: IdentityId): Promise<void> {
  await updateOwner(table, identity, {
    expression: 'SET #a = :true',
    condition: 'attribute_exists(#k)',
    names: { '#a': A.active, '#k': A.key },
    values: { ':true': true },
  });
}

/** See MailboxStore.join. */
export async function joinOwner(
  table: MailboxTable,
  identity: IdentityId,
  session: LiveSession,
  nowSeconds: number,
): Promise<{ joined: boolean; evicted: string[] }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const owner = await readOwner(table, identity);
    if (!owner) {
      await openOwner(table, identity);
      continue;
    }
    if (!owner.active) return { joined: false, evicted: [] };
    const others = owner.sessions.filter((live) => live.connectionId !== session.connectionId);
    const expired = others.filter((live) => live.expiresAt <= nowSeconds);
    const live = others
      .filter((other) => other.expiresAt > nowSeconds)
      .sort((a, b) => a.expiresAt - b.expiresAt);
    const evicted = live.slice(0, Math.max(0, live.length - (LIMITS.connectionsPerIdentity - 1)));
    const dropped = [...expired, ...evicted];
    const names: Record<string, string> = { '#s': A.sessions, '#c': session.connectionId, '#a': A.active };
    dropped.forEach((drop, index) => {
      names[`#d${index}`] = drop.connectionId;
    });
    const remove = dropped.length > 0 ? ` REMOVE ${dropped.map((_, i) => `#s.#d${i}`).join(', ')}` : '';
    const done = await conditional(() =>
      table.dynamo.send(
        new UpdateCommand({
          TableName: table.name,
          Key: ownerKey(identity),
          UpdateExpression: `SET #s.#c = :entry${remove}`,
          ConditionExpression: '#a = :true',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':entry': { [S.key]: session.sessionKey, [S.expiresAt]: session.expiresAt },
            ':true': true,
          },
        }),
      ),
    );
    if (done) return { joined: true, evicted: evicted.map((drop) => drop.connectionId) };
  }
  return { joined: false, evicted: [] };
}

/** A conditional update of an identity's owner record; true when its condition held. */
function updateOwner(
  table: MailboxTable,
  identity: IdentityId,
  update: { expression: string; condition: string; names: Record<string, string>; values?: Item },
): Promise<boolean> {
  return conditional(() =>
    table.dynamo.send(
      new UpdateCommand({
        TableName: table.name,
        Key: ownerKey(identity),
        UpdateExpression: update.expression,
        ConditionExpression: update.condition,
        ExpressionAttributeNames: update.names,
        ...(update.values ? { ExpressionAttributeValues: update.values } : {}),
      }),
    ),
  );
}

/** Removes one session from the owner record (a no-op when it is not listed). */
export async function leaveOwner(
  table: MailboxTable,
  identity: IdentityId,
  connectionId: string,
): Promise<void> {
  await updateOwner(table, identity, {
    expression: 'REMOVE #s.#c',
    condition: 'attribute_exists(#s.#c)',
    names: { '#s': A.sessions, '#c': connectionId },
  });
}

/**
 * Sets (`SET`, a recount: with the senders holding a share) or adds to (`ADD`) the counters of an
 * existing owner record.
 */
async function writeCounters(
  table: MailboxTable,
  identity: IdentityId,
  how: 'SET' | 'ADD',
  count: number,
  bytes: number,
  heavy: readonly IdentityId[] = [],
): Promise<void> {
  await updateOwner(
    table,
    identity,
    how === 'SET'
      ? {
          expression: 'SET #c = :count, #b = :bytes, #h = :heavy',
          condition: 'attribute_exists(#k)',
          names: { '#c': A.count, '#b': A.bytes, '#h': A.heavy, '#k': A.key },
          values: { ':count': count, ':bytes': bytes, ':heavy': heavy },
        }
      : {
          expression: 'ADD #c :count, #b :bytes',
          condition: 'attribute_exists(#k)',
          names: { '#c': A.count, '#b': A.bytes, '#k': A.key },
          values: { ':count': count, ':bytes': bytes },
        },
  );
}

/** Adds to the approximate counters of an existing owner record. */
export function addToCounters(table: MailboxTable, identity: IdentityId, count: number, bytes: number) {
  return writeCounters(table, identity, 'ADD', count, bytes);
}

/**
 * See MailboxStore.recount. Claiming the recount first (a conditional write on `recountedAt`) means
 * one recount per mailbox per LIMITS.mailboxRecountSeconds, however many sends find it full.
 */
export async function recountOwner(
  table: MailboxTable,
  identity: IdentityId,
  nowSeconds: number,
): Promise<MailboxCount | undefined> {
  const claimed = await updateOwner(table, identity, {
    expression: 'SET #at = :now',
    condition: 'attribute_exists(#k) AND (attribute_not_exists(#at) OR #at <= :since)',
    names: { '#at': A.recountedAt, '#k': A.key },
    values: { ':now': nowSeconds, ':since': nowSeconds - LIMITS.mailboxRecountSeconds },
  });
  if (!claimed) return undefined;
  let count = 0;
  let bytes = 0;
  const bySender = new Map<IdentityId, { count: number; bytes: number }>();
  const messages = pages((start: Item | undefined) =>
    translateAwsError(() =>
      table.dynamo.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
          // TTL deletes lazily: expired messages no longer count.
          FilterExpression: '#exp > :now',
          ExpressionAttributeNames: {
            '#r': A.recipient,
            '#k': A.key,
            '#exp': A.expiresAt,
            '#b': A.bytes,
            '#s': A.sender,
          },
          ExpressionAttributeValues: { ':r': identity, ':m': 'm#', ':now': nowSeconds },
          ProjectionExpression: '#b, #s',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of messages) {
    for (const item of items) {
      const size = Number(item[A.bytes] ?? 0);
      count++;
      bytes += size;
      const sender = item[A.sender] as IdentityId;
      const held = bySender.get(sender) ?? { count: 0, bytes: 0 };
      bySender.set(sender, { count: held.count + 1, bytes: held.bytes + size });
    }
  }
  const heavy = heavySenders(bySender);
  await writeCounters(table, identity, 'SET', count, bytes, heavy);
  return { count, bytes, heavy };
}

/**
 * The senders holding their share of the mailbox (LIMITS.mailboxSenderShare of its message or byte
 * limit), the most messages first, at most LIMITS.mailboxHeavySendersMax of them. Only a full
 * mailbox refuses them.
 */
export function heavySenders(
  bySender: ReadonlyMap<IdentityId, { count: number; bytes: number }>,
): IdentityId[] {
  const shareCount = LIMITS.mailboxMaxMessages / LIMITS.mailboxSenderShare;
  const shareBytes = LIMITS.mailboxMaxBytes / LIMITS.mailboxSenderShare;
  return [...bySender]
    .filter(([, held]) => held.count >= shareCount || held.bytes >= shareBytes)
    .sort((a, b) => b[1].count - a[1].count || b[1].bytes - a[1].bytes)
    .slice(0, LIMITS.mailboxHeavySendersMax)
    .map(([sender]) => sender);
}
