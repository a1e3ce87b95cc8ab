/**
 * The vault table behind VaultStore (contract/schema.ts `VAULT`):
 *
 *   identity | item          | registration, credential, wrapped, tries, maxTries, version  (the vault)
 *   ABCD1234 | record        |
 *   ABCD1234 | login#<hex16> | registration, credential, wrapped, maxTries, version, state?, decoy?, expiresAt
 *   ABCD1234 | code#<hex16>  | codeDigest, codeTries, expiresAt
 *
 * A code's tries are spent the same way, before the code is compared, so parallel guesses at one
 * code never get more comparisons than its tries.
 *
 * Spending a try is one conditional UpdateItem (tries > 0); the one that reaches zero is followed
 * by a conditional delete of the record. A crash between the two leaves a record at zero tries,
 * which no start can use and the next start deletes. TTL deletes lazily: every read checks
 * `expiresAt` (the domain does, from the values returned).
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { VAULT } from '../../contract/schema.ts';
import { toHex } from '../../protocol/bytes.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import type { PendingLogin, VaultRecord, VaultStore } from '../domain/vault.ts';
import { conditional, translateAwsError } from './errors.ts';
import { deletePartition } from './partition.ts';

const A = VAULT.attributes;
type Item = Record<string, unknown>;

const RECORD = 'record';
const loginKey = (login: Uint8Array) => `login#${toHex(login)}`;
const codeKey = (request: Uint8Array) => `code#${toHex(request)}`;

function recordFrom(identity: IdentityId, item: Item, tries: number): VaultRecord {
  return {
    identity,
    registration: item[A.registration] as Uint8Array,
    ...(item[A.credential] ? { credential: item[A.credential] as Uint8Array } : {}),
    wrapped: item[A.wrapped] as Uint8Array,
    tries,
    maxTries: Number(item[A.maxTries]),
    version: item[A.version] as Uint8Array,
  };
}

const recordAttributes = (record: VaultRecord) => ({
  [A.registration]: record.registration,
  ...(record.credential ? { [A.credential]: record.credential } : {}),
  [A.wrapped]: record.wrapped,
  [A.maxTries]: record.maxTries,
  [A.version]: record.version,
});

export function dynamoVaultStore(dynamo: DynamoDBDocumentClient, tableName: string): VaultStore {
  const key = (identity: IdentityId, item: string) => ({ [A.identity]: identity, [A.item]: item });
  const put = (item: Item) =>
    translateAwsError(() => dynamo.send(new PutCommand({ TableName: tableName, Item: item })));
  const get = async (identity: IdentityId, item: string) =>
    (
      await translateAwsError(() =>
        dynamo.send(new GetCommand({ TableName: tableName, Key: key(identity, item), ConsistentRead: true })),
      )
    ).Item;
  const removeAll = (identity: IdentityId) =>
    deletePartition({ dynamo, name: tableName, partitionKey: A.identity, sortKey: A.item }, identity);

  /** Deletes a record with no try left (the version guards against a record stored meanwhile). */
  const removeExhausted = (identity: IdentityId, version?: Uint8Array) =>
    conditional(() =>
      dynamo.send(
        new DeleteCommand({
          TableName: tableName,
          Key: key(identity, RECORD),
          ConditionExpression: version ? '#tries <= :zero AND #version = :version' : '#tries <= :zero',
          ExpressionAttributeNames: { '#tries': A.tries, ...(version ? { '#version': A.version } : {}) },
          ExpressionAttributeValues: { ':zero': 0, ...(version ? { ':version': version } : {}) },
        }),
      ),
    );

  return {
    async get(identity) {
      const item = await get(identity, RECORD);
      const tries = Number(item?.[A.tries] ?? 0);
      return item && tries > 0 ? recordFrom(identity, item, tries) : undefined;
    },

    async replace(record) {
      await removeAll(record.identity);
      await put({ ...key(record.identity, RECORD), ...recordAttributes(record), [A.tries]: record.tries });
    },

    removeAll,

    async spendTry(identity) {
      let updated: Item | undefined;
      const spent = await conditional(async () => {
        const result = await dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(identity, RECORD),
            UpdateExpression: 'SET #tries = #tries - :one',
            ConditionExpression: 'attribute_exists(#tries) AND #tries > :zero',
            ExpressionAttributeNames: { '#tries': A.tries },
            ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
            ReturnValues: 'ALL_NEW',
          }),
        );
        updated = result.Attributes;
      });
      if (!spent || !updated) {
        // No record, or one left at zero by a crash after its last decrement: delete that one now.
        await removeExhausted(identity);
        return undefined;
      }
      const record = recordFrom(identity, updated, Number(updated[A.tries]));
      if (record.tries === 0) await removeExhausted(identity, record.version);
      return record;
    },

    async putLogin(login: PendingLogin) {
      await put({
        ...key(login.identity, loginKey(login.login)),
        ...(login.record ? recordAttributes(login.record) : { [A.decoy]: true }),
        [A.expiresAt]: login.expiresAt,
      });
    },

    setLoginState(identity, login, state) {
      return conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(identity, loginKey(login)),
            UpdateExpression: 'SET #state = :state',
            ConditionExpression: 'attribute_exists(#expires)',
            ExpressionAttributeNames: { '#state': A.state, '#expires': A.expiresAt },
            ExpressionAttributeValues: { ':state': state },
          }),
        ),
      );
    },

    async takeLogin(identity, login) {
      // A conditional delete that returns the item: whoever deletes it first has it, a replay (also
      // one at the same moment) fails the condition and finds nothing. Without the condition two
      // concurrent deletes could both return the item (seen on DynamoDB Local: two finishes of one
      // login both released the key, test/e2e/vault-properties.test.ts).
      let item: Item | undefined;
      await conditional(async () => {
        const result = await dynamo.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key(identity, loginKey(login)),
            ConditionExpression: 'attribute_exists(#expires)',
            ExpressionAttributeNames: { '#expires': A.expiresAt },
            ReturnValues: 'ALL_OLD',
          }),
        );
        item = result.Attributes;
      });
      if (!item) return undefined;
      return {
        identity,
        login,
        ...(item[A.decoy] ? {} : { record: recordFrom(identity, item, 0) }),
        ...(item[A.state] ? { state: item[A.state] as Uint8Array } : {}),
        expiresAt: Number(item[A.expiresAt]),
      };
    },

    async restore(record) {
      // The same vault, still there: its tries back to the owner's number.
      const update = () =>
        conditional(() =>
          dynamo.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key(record.identity, RECORD),
              UpdateExpression: 'SET #tries = #max',
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#tries': A.tries, '#max': A.maxTries, '#version': A.version },
              ExpressionAttributeValues: { ':version': record.version },
            }),
          ),
        );
      // A login that spent the last try (the record was deleted): the right password brings it back.
      const recreate = () =>
        conditional(() =>
          dynamo.send(
            new PutCommand({
              TableName: tableName,
              Item: {
                ...key(record.identity, RECORD),
                ...recordAttributes(record),
                [A.tries]: record.maxTries,
              },
              ConditionExpression: 'attribute_not_exists(#tries)',
              ExpressionAttributeNames: { '#tries': A.tries },
            }),
          ),
        );
      // A concurrent right finish may re-create it between the two: then the update applies.
      return (await update()) || (await recreate()) || update();
    },

    async putCode(identity, request, code) {
      await put({
        ...key(identity, codeKey(request)),
        [A.codeDigest]: code.codeDigest,
        [A.codeTries]: code.tries,
        [A.expiresAt]: code.expiresAt,
      });
    },

    async spendCodeTry(identity, request, maxTries, now) {
      let updated: Item | undefined;
      const spent = await conditional(async () => {
        const result = await dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(identity, codeKey(request)),
            UpdateExpression: 'ADD #tries :one',
            ConditionExpression: 'attribute_exists(#digest) AND #tries < :max AND #expires >= :now',
            ExpressionAttributeNames: {
              '#tries': A.codeTries,
              '#digest': A.codeDigest,
              '#expires': A.expiresAt,
            },
            ExpressionAttributeValues: { ':one': 1, ':max': maxTries, ':now': now },
            ReturnValues: 'ALL_NEW',
          }),
        );
        updated = result.Attributes;
      });
      return spent && updated ? (updated[A.codeDigest] as Uint8Array) : undefined;
    },

    takeCode(identity, request) {
      return conditional(() =>
        dynamo.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key(identity, codeKey(request)),
            ConditionExpression: 'attribute_exists(#digest)',
            ExpressionAttributeNames: { '#digest': A.codeDigest },
          }),
        ),
      );
    },
  };
}
