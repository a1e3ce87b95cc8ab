/** The ephemeral table behind EphemeralStore: challenges, rate windows, invites, pending links. */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { EPHEMERAL } from '../../contract/schema.ts';
import { toHex } from '../../protocol/bytes.ts';
import type { ContactKind } from '../../protocol/contacts.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import type { Challenge, EphemeralStore, PendingLink } from '../domain/directory.ts';
import { conditional, translateAwsError } from './errors.ts';
import { pages } from './paging.ts';

const A = EPHEMERAL.attributes;

const keys = {
  challenge: (slot: number) => `challenge:${slot}`,
  used: (digest: Uint8Array) => `used:${toHex(digest)}`,
  invite: (digest: Uint8Array) => `${INVITE_PREFIX}${toHex(digest)}`,
  link: (identity: IdentityId, kind: ContactKind) => `link:${identity}:${kind}`,
  rate: (bucket: string) => `rate:${bucket}`,
};

/**
 * The update that counts `amount` into a fixed rate window unless that would pass `limit`; used
 * alone (consume) and inside the chat switch's send transaction, so both count the same way.
 */
export function rateWindowUpdate(
  tableName: string,
  bucket: string,
  amount: number,
  limit: number,
  windowEndsAt: number,
) {
  return {
    TableName: tableName,
    Key: { [A.key]: keys.rate(bucket) },
    UpdateExpression: 'ADD #count :amount SET #exp = :exp',
    ConditionExpression: 'attribute_not_exists(#count) OR #count <= :room',
    ExpressionAttributeNames: { '#count': A.count, '#exp': A.expiresAt },
    ExpressionAttributeValues: { ':amount': amount, ':exp': windowEndsAt, ':room': limit - amount },
  };
}

export function dynamoEphemeralStore(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  nowSeconds: () => number,
): EphemeralStore {
  const put = (item: Record<string, unknown>) =>
    translateAwsError(() => dynamo.send(new PutCommand({ TableName: tableName, Item: item })));
  const remove = (key: string) =>
    translateAwsError(() => dynamo.send(new DeleteCommand({ TableName: tableName, Key: { [A.key]: key } })));

  async function getChallenge(slot: number): Promise<Challenge | undefined> {
    const result = await translateAwsError(() =>
      dynamo.send(
        new GetCommand({
          TableName: tableName,
          Key: { [A.key]: keys.challenge(slot) },
          ConsistentRead: true,
        }),
      ),
    );
    const item = result.Item;
    if (!item) return undefined;
    return {
      slot,
      temporarySecret: item[A.secret] as Uint8Array,
      expiresAt: Number(item[A.expiresAt]),
    };
  }

  return {
    async slotChallenge(candidate: Challenge) {
      // First writer wins; every later request of the slot reads the same challenge back.
      const stored = await conditional(() =>
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              [A.key]: keys.challenge(candidate.slot),
              [A.secret]: candidate.temporarySecret,
              [A.expiresAt]: candidate.expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': A.key },
          }),
        ),
      );
      if (stored) return candidate;
      const existing = await getChallenge(candidate.slot);
      if (!existing) throw new SwitchyardError('unavailable');
      return existing;
    },

    getChallenge,

    markUsed(digest, expiresAt) {
      return conditional(() =>
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: { [A.key]: keys.used(digest), [A.expiresAt]: expiresAt },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': A.key },
          }),
        ),
      );
    },

    async count(bucket) {
      const result = await translateAwsError(() =>
        dynamo.send(
          new GetCommand({ TableName: tableName, Key: { [A.key]: keys.rate(bucket) }, ConsistentRead: true }),
        ),
      );
      return Number(result.Item?.[A.count] ?? 0);
    },

    consume(bucket, amount, limit, windowEndsAt) {
      if (amount > limit) return Promise.resolve(false);
      return conditional(() =>
        dynamo.send(new UpdateCommand(rateWindowUpdate(tableName, bucket, amount, limit, windowEndsAt))),
      );
    },

    async putInvite(digest, expiresAt) {
      await put({ [A.key]: keys.invite(digest), [A.expiresAt]: expiresAt });
    },

    takeInvite(digest) {
      // TTL deletes lazily: an expired invite may still be stored, so the condition checks the time.
      return conditional(() =>
        dynamo.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { [A.key]: keys.invite(digest) },
            ConditionExpression: 'attribute_exists(#key) AND #exp > :now',
            ExpressionAttributeNames: { '#key': A.key, '#exp': A.expiresAt },
            ExpressionAttributeValues: { ':now': nowSeconds() },
          }),
        ),
      );
    },

    async putPendingLink(link: PendingLink) {
      await put({
        [A.key]: keys.link(link.identity, link.kind),
        [A.hash]: link.hash,
        [A.codeDigest]: link.codeDigest,
        [A.tries]: link.tries,
        [A.expiresAt]: link.expiresAt,
      });
    },

    async getPendingLink(identity, kind) {
      const result = await translateAwsError(() =>
        dynamo.send(
          new GetCommand({
            TableName: tableName,
            Key: { [A.key]: keys.link(identity, kind) },
            ConsistentRead: true,
          }),
        ),
      );
      const item = result.Item;
      if (!item) return undefined;
      return {
        identity,
        kind,
        hash: item[A.hash] as Uint8Array,
        codeDigest: item[A.codeDigest] as Uint8Array,
        tries: Number(item[A.tries]),
        expiresAt: Number(item[A.expiresAt]),
      };
    },

    async failPendingLink(identity, kind) {
      await conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [A.key]: keys.link(identity, kind) },
            UpdateExpression: 'ADD #tries :one',
            ConditionExpression: 'attribute_exists(#key)',
            ExpressionAttributeNames: { '#tries': A.tries, '#key': A.key },
            ExpressionAttributeValues: { ':one': 1 },
          }),
        ),
      );
    },

    async deletePendingLink(identity, kind) {
      await remove(keys.link(identity, kind));
    },
  };
}

const INVITE_PREFIX = 'invite:';

/** An unused invite as the operator sees it: the start of its digest (not the token) and its expiry. */
export interface InviteEntry {
  /** The first 12 hex digits of the token's SHA-256: enough to tell invites apart and revoke one. */
  readonly id: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** The invite items of the table: their keys and expiry (a scan, filtered; an operator's tool). */
async function inviteItems(dynamo: DynamoDBDocumentClient, tableName: string) {
  const found: { key: string; digest: string; expiresAt: number }[] = [];
  const scan = pages((start) =>
    translateAwsError(() =>
      dynamo.send(
        new ScanCommand({
          TableName: tableName,
          FilterExpression: 'begins_with(#key, :prefix)',
          ProjectionExpression: '#key, #exp',
          ExpressionAttributeNames: { '#key': A.key, '#exp': A.expiresAt },
          ExpressionAttributeValues: { ':prefix': INVITE_PREFIX },
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of scan) {
    for (const item of items) {
      const key = item[A.key] as string;
      found.push({ key, digest: key.slice(INVITE_PREFIX.length), expiresAt: Number(item[A.expiresAt]) });
    }
  }
  return found;
}

/** Invites not used and not expired at `nowSeconds` (TTL deletes lazily), soonest expiry first. */
export async function listInvites(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  nowSeconds: number,
): Promise<InviteEntry[]> {
  return (await inviteItems(dynamo, tableName))
    .filter((item) => item.expiresAt > nowSeconds)
    .map((item) => ({ id: item.digest.slice(0, 12), expiresAt: item.expiresAt }))
    .sort((a, b) => a.expiresAt - b.expiresAt);
}

/**
 * Deletes the invites `which` selects — every one, those whose digest starts with an id from
 * listInvites, or the one of a token — so they can't register anyone. Returns how many it deleted.
 */
export async function revokeInvites(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  which: { readonly all: true } | { readonly id: string } | { readonly digest: Uint8Array },
): Promise<number> {
  const wanted = (digest: string) =>
    'all' in which ? true : 'id' in which ? digest.startsWith(which.id) : digest === toHex(which.digest);
  let deleted = 0;
  for (const item of await inviteItems(dynamo, tableName)) {
    if (!wanted(item.digest)) continue;
    await translateAwsError(() =>
      dynamo.send(new DeleteCommand({ TableName: tableName, Key: { [A.key]: item.key } })),
    );
    deleted++;
  }
  return deleted;
}
