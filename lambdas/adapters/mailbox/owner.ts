/**
 * A mailbox's owner record (`#owner` in the recipient's partition): whether it receives, its live
 * sessions for pushes, and the approximate quota counters. One strongly consistent read of it is
 * all a send needs to know about a recipient.
 *
 *   recipient | key    | active | sessions                                  | count | bytes | recountedAt
 *   ABCD1234  | #owner | true   | {<connection id>: {k: <session key>, e: <expiry, epoch s>}, …} | 12 | 9000 | …
 *
 * A revoked or deleted identity keeps a closed record (`active` false, no sessions) for good, so a
 * login or a send racing the revocation can't open the mailbox again.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdentityId } from '../../../protocol/identity.ts';
import { LIMITS } from '../../../protocol/limits.ts';
import type { LiveSession, OwnerState } from '../../domain/chat.ts';
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

/** Sets (`SET`) or adds to (`ADD`) the counters of an existing owner record. */
async function writeCounters(
  table: MailboxTable,
  identity: IdentityId,
  how: 'SET' | 'ADD',
  count: number,
  bytes: number,
): Promise<void> {
  await updateOwner(table, identity, {
    expression: how === 'SET' ? 'SET #c = :count, #b = :bytes' : 'ADD #c :count, #b :bytes',
    condition: 'attribute_exists(#k)',
    names: { '#c': A.count, '#b': A.bytes, '#k': A.key },
    values: { ':count': count, ':bytes': bytes },
  });
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
): Promise<{ count: number; bytes: number } | undefined> {
  const claimed = await updateOwner(table, identity, {
    expression: 'SET #at = :now',
    condition: 'attribute_exists(#k) AND (attribute_not_exists(#at) OR #at <= :since)',
    names: { '#at': A.recountedAt, '#k': A.key },
    values: { ':now': nowSeconds, ':since': nowSeconds - LIMITS.mailboxRecountSeconds },
  });
  if (!claimed) return undefined;
  let count = 0;
  let bytes = 0;
  const messages = pages((start: Item | undefined) =>
    translateAwsError(() =>
      table.dynamo.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: '#r = :r AND begins_with(#k, :m)',
          // TTL deletes lazily: expired messages no longer count.
          FilterExpression: '#exp > :now',
          ExpressionAttributeNames: { '#r': A.recipient, '#k': A.key, '#exp': A.expiresAt, '#b': A.bytes },
          ExpressionAttributeValues: { ':r': identity, ':m': 'm#', ':now': nowSeconds },
          ProjectionExpression: '#b',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of messages) {
    for (const item of items) {
      count++;
      bytes += Number(item[A.bytes] ?? 0);
    }
  }
  await writeCounters(table, identity, 'SET', count, bytes);
  return { count, bytes };
}
