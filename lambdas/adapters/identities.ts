/** The identities table behind IdentityStore. */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { IDENTITIES } from '../../contract/schema.ts';
import type { ContactKind } from '../../protocol/contacts.ts';
import type { IdentityId, PublicKey } from '../../protocol/identity.ts';
import type { IdentityChange, IdentityRecord, IdentityStore, RevocationSecret } from '../domain/directory.ts';
import { conditional, translateAwsError } from './errors.ts';
import { pages } from './paging.ts';

const A = IDENTITIES.attributes;
const HASH_ATTRIBUTE: Record<ContactKind, string> = { email: A.emailHash, phone: A.mobileNoHash };
const HASH_INDEX = Object.fromEntries(
  (['email', 'phone'] as const).map((kind) => [
    kind,
    IDENTITIES.indexes.find((index) => index.partitionKey.name === HASH_ATTRIBUTE[kind])!.indexName,
  ]),
) as Record<ContactKind, string>;
/** BatchGetItem takes at most 100 keys per call. */
const BATCH_GET_MAX = 100;

type Item = Record<string, unknown>;

function bytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

function toRecord(item: Item): IdentityRecord {
  const revocation = item[A.revocation] as Record<string, unknown> | undefined;
  return {
    identity: item[A.identity] as IdentityId,
    state: item[A.state] === 'active' ? 'active' : item[A.state] === 'blocked' ? 'blocked' : 'revoked',
    ...(bytes(item[A.publicKey]) ? { publicKey: bytes(item[A.publicKey]) as PublicKey } : {}),
    ...(typeof item[A.featureMask] === 'number' ? { featureMask: item[A.featureMask] as number } : {}),
    ...(typeof item[A.issueDate] === 'string' ? { issueDate: item[A.issueDate] as string } : {}),
    ...(typeof item[A.lastLogin] === 'string' ? { lastLogin: item[A.lastLogin] as string } : {}),
    ...(bytes(item[A.emailHash]) ? { emailHash: bytes(item[A.emailHash])! } : {}),
    ...(bytes(item[A.mobileNoHash]) ? { mobileNoHash: bytes(item[A.mobileNoHash])! } : {}),
    ...(revocation ? { revocation: revocation as unknown as RevocationSecret } : {}),
  };
}

export function dynamoIdentityStore(dynamo: DynamoDBDocumentClient, tableName: string): IdentityStore {
  return {
    create(record) {
      return conditional(() =>
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              [A.identity]: record.identity,
              [A.state]: record.state,
              [A.publicKey]: record.publicKey,
              [A.featureMask]: record.featureMask,
              [A.issueDate]: record.issueDate,
              [A.lastLogin]: record.lastLogin,
            },
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': A.identity },
          }),
        ),
      );
    },

    async get(identity) {
      const result = await translateAwsError(() =>
        dynamo.send(
          new GetCommand({ TableName: tableName, Key: { [A.identity]: identity }, ConsistentRead: true }),
        ),
      );
      return result.Item ? toRecord(result.Item) : undefined;
    },

    async getMany(identities) {
      const records: IdentityRecord[] = [];
      for (let start = 0; start < identities.length; start += BATCH_GET_MAX) {
        let keys: Item[] | undefined = identities
          .slice(start, start + BATCH_GET_MAX)
          .map((identity) => ({ [A.identity]: identity }));
        // Unprocessed keys are retried with a short backoff, as the SDK does for whole requests.
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          if (attempt > 0)
            await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
          if (attempt > 8) throw new Error('BatchGet did not finish');
          const page = await translateAwsError(() =>
            dynamo.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys! } } })),
          );
          for (const item of page.Responses?.[tableName] ?? []) records.push(toRecord(item));
          keys = page.UnprocessedKeys?.[tableName]?.Keys as Item[] | undefined;
        }
      }
      return records;
    },

    update(identity, change: IdentityChange) {
      const names: Record<string, string> = { '#state': A.state };
      const values: Record<string, unknown> = { ':active': 'active' };
      let expression: string;
      if ('featureMask' in change) {
        names['#a'] = A.featureMask;
        values[':v'] = change.featureMask;
        expression = 'SET #a = :v';
      } else if ('lastLogin' in change) {
        names['#a'] = A.lastLogin;
        values[':v'] = change.lastLogin;
        expression = 'SET #a = :v';
      } else if ('link' in change) {
        names['#a'] = HASH_ATTRIBUTE[change.link];
        values[':v'] = change.hash;
        expression = 'SET #a = :v';
      } else if ('unlink' in change) {
        names['#a'] = HASH_ATTRIBUTE[change.unlink];
        expression = 'REMOVE #a';
      } else {
        names['#a'] = A.revocation;
        values[':v'] = { ...change.revocation };
        expression = 'SET #a = :v';
      }
      return conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [A.identity]: identity },
            UpdateExpression: expression,
            ConditionExpression: '#state = :active',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
    },

    async tombstone(identity) {
      await translateAwsError(() =>
        dynamo.send(
          new PutCommand({ TableName: tableName, Item: { [A.identity]: identity, [A.state]: 'revoked' } }),
        ),
      );
    },

    setBlocked(identity, blocked) {
      return conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { [A.identity]: identity },
            UpdateExpression: 'SET #state = :to',
            ConditionExpression: '#state = :from',
            ExpressionAttributeNames: { '#state': A.state },
            ExpressionAttributeValues: blocked
              ? { ':from': 'active', ':to': 'blocked' }
              : { ':from': 'blocked', ':to': 'active' },
          }),
        ),
      );
    },

    async findByHash(kind, hash) {
      const result = await translateAwsError(() =>
        dynamo.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: HASH_INDEX[kind],
            KeyConditionExpression: '#h = :h',
            ExpressionAttributeNames: { '#h': HASH_ATTRIBUTE[kind] },
            ExpressionAttributeValues: { ':h': hash },
            Limit: 10,
          }),
        ),
      );
      return (result.Items ?? []).map(toRecord);
    },
  };
}

/** What a restore did: identities copied back, and identities the live table already had. */
export interface RestoreCounts {
  readonly restored: number;
  readonly kept: number;
}

/**
 * Copies every identity of `fromTable` (a table restored from a backup or a point in time) into
 * `toTable` (the deployment's live table) that `toTable` does not have. The live table wins: a
 * revocation, a new link or a new key made after the backup stays as it is. Items are copied whole,
 * so the contact-matching indexes follow. Safe to run again: a second run restores nothing.
 */
export async function restoreMissingIdentities(
  dynamo: DynamoDBDocumentClient,
  fromTable: string,
  toTable: string,
): Promise<RestoreCounts> {
  let restored = 0;
  let kept = 0;
  const scan = pages((start) =>
    dynamo.send(new ScanCommand({ TableName: fromTable, ConsistentRead: true, ExclusiveStartKey: start })),
  );
  for await (const items of scan) {
    for (const item of items) {
      const written = await conditional(() =>
        dynamo.send(
          new PutCommand({
            TableName: toTable,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: { '#id': A.identity },
          }),
        ),
      );
      if (written) restored++;
      else kept++;
    }
  }
  return { restored, kept };
}

/** The identities table in counts, for the operator's usage figures. */
export interface IdentityFigures {
  readonly states: Readonly<Record<IdentityRecord['state'], number>>;
  /** Registrations by issue day (YYYY-MM-DD, UTC). */
  readonly registered: Readonly<Record<string, number>>;
  /** Identities by the day of their last login (each counted once, on its latest day). */
  readonly lastLogin: Readonly<Record<string, number>>;
}

/**
 * Counts identities by state, issue day and last-login day. The scan reads only those three
 * attributes — never an ID, key or hash — so no identifier leaves the table. A whole-table read:
 * an operator's tool, run now and then, never on a request path.
 */
export async function identityFigures(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
): Promise<IdentityFigures> {
  const states = { active: 0, blocked: 0, revoked: 0 };
  const registered: Record<string, number> = {};
  const lastLogin: Record<string, number> = {};
  const add = (counts: Record<string, number>, day: unknown) => {
    if (typeof day === 'string') counts[day] = (counts[day] ?? 0) + 1;
  };
  const scan = pages((start) =>
    translateAwsError(() =>
      dynamo.send(
        new ScanCommand({
          TableName: tableName,
          ProjectionExpression: '#state, #issued, #login',
          ExpressionAttributeNames: { '#state': A.state, '#issued': A.issueDate, '#login': A.lastLogin },
          ExclusiveStartKey: start,
        }),
      ),
    ),
  );
  for await (const items of scan) {
    for (const item of items) {
      const state = item[A.state];
      states[state === 'active' || state === 'blocked' ? state : 'revoked']++;
      add(registered, item[A.issueDate]);
      add(lastLogin, item[A.lastLogin]);
    }
  }
  return { states, registered, lastLogin };
}
