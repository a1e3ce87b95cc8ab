/**
 * The blobs table behind BlobRecords (contract/schema.ts BLOBS):
 *
 *   key                                  | owner    | size | recipients (SS)      | expiresAt | count, bytes
 *   b#00112233445566778899aabbccddeeff   | ABCD1234 | 1040 | {EFGH5678, IJKL9012} | 1767225600 |
 *   q#ABCD1234                           |          |      |                      |            | 3, 52428800
 *
 * A new blob and its owner's counter are written in one transaction, so the quota holds under
 * concurrent requests. TTL deletes expired blob items without touching the counter, so a counter
 * that says "full" is recounted once from the sparse `byOwner` index before a request is refused.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { BLOBS } from '../../contract/schema.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import type { BlobId } from '../../protocol/media.ts';
import type { BlobRecord, BlobRecords, Quota } from '../domain/media.ts';
import { conditional, fromAwsError, translateAwsError } from './errors.ts';
import { pages } from './paging.ts';
import { backoff, cancellationCodes } from './retries.ts';

const A = BLOBS.attributes;
const OWNER_INDEX = BLOBS.indexes[0].indexName;

const blobKey = (blob: BlobId) => ({ [A.key]: `b#${blob}` });
const counterKey = (owner: IdentityId) => ({ [A.key]: `q#${owner}` });

type Attempt = 'created' | 'full' | 'conflict';

export function dynamoBlobRecords(dynamo: DynamoDBDocumentClient, table: string): BlobRecords {
  async function createOnce(record: BlobRecord, quota: Quota): Promise<Attempt> {
    try {
      await dynamo.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: {
                  ...blobKey(record.blob),
                  [A.owner]: record.owner,
                  [A.size]: record.size,
                  [A.recipients]: new Set(record.recipients),
                  [A.expiresAt]: record.expiresAt,
                },
                // 128 random bits never collide; the condition makes sure an id is never reused.
                ConditionExpression: 'attribute_not_exists(#k)',
                ExpressionAttributeNames: { '#k': A.key },
              },
            },
            {
              Update: {
                TableName: table,
                Key: counterKey(record.owner),
                UpdateExpression: 'ADD #c :one, #b :size',
                ConditionExpression: 'attribute_not_exists(#c) OR (#c < :maxCount AND #b <= :room)',
                ExpressionAttributeNames: { '#c': A.count, '#b': A.bytes },
                ExpressionAttributeValues: {
                  ':one': 1,
                  ':size': record.size,
                  ':maxCount': quota.maxBlobs,
                  ':room': quota.maxBytes - record.size,
                },
              },
            },
          ],
        }),
      );
      return 'created';
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[1] === 'ConditionalCheckFailed') return 'full';
      if (codes?.includes('TransactionConflict')) return 'conflict';
      throw fromAwsError(error);
    }
  }

  /** The owner's unexpired blobs, counted from the index (TTL may not have deleted the rest yet). */
  async function recount(owner: IdentityId, nowSeconds: number): Promise<void> {
    let count = 0;
    let bytes = 0;
    const found = pages((start) =>
      translateAwsError(() =>
        dynamo.send(
          new QueryCommand({
            TableName: table,
            IndexName: OWNER_INDEX,
            KeyConditionExpression: '#o = :o',
            FilterExpression: '#exp > :now',
            ExpressionAttributeNames: { '#o': A.owner, '#exp': A.expiresAt, '#s': A.size },
            ExpressionAttributeValues: { ':o': owner, ':now': nowSeconds },
            ProjectionExpression: '#s',
            ExclusiveStartKey: start,
          }),
        ),
      ),
    );
    for await (const items of found) {
      for (const item of items) {
        count++;
        bytes += Number(item[A.size] ?? 0);
      }
    }
    await translateAwsError(() =>
      dynamo.send(
        new PutCommand({
          TableName: table,
          Item: { ...counterKey(owner), [A.count]: count, [A.bytes]: bytes },
        }),
      ),
    );
  }

  return {
    async create(record, quota, nowSeconds) {
      // A blob larger than the whole quota can never fit: no recount needed to say so.
      if (record.size > quota.maxBytes) return 'quota_exceeded';
      let recounted = false;
      for (let attempt = 1; attempt <= 8; attempt++) {
        const outcome = await createOnce(record, quota);
        if (outcome === 'created') return 'created';
        if (outcome === 'conflict') {
          await backoff(attempt);
          continue;
        }
        if (recounted) return 'quota_exceeded';
        await recount(record.owner, nowSeconds);
        recounted = true;
      }
      throw fromAwsError(new Error('blob record: contended'));
    },

    async get(blob) {
      const result = await translateAwsError(() =>
        dynamo.send(new GetCommand({ TableName: table, Key: blobKey(blob), ConsistentRead: true })),
      );
      const item = result.Item;
      if (!item) return undefined;
      return {
        blob,
        owner: item[A.owner] as IdentityId,
        size: Number(item[A.size]),
        recipients: [...((item[A.recipients] as Set<string> | undefined) ?? [])] as IdentityId[],
        expiresAt: Number(item[A.expiresAt]),
      };
    },

    async removeRecipient(blob, recipient) {
      try {
        const result = await dynamo.send(
          new UpdateCommand({
            TableName: table,
            Key: blobKey(blob),
            UpdateExpression: 'DELETE #r :me',
            ConditionExpression: 'contains(#r, :one)',
            ExpressionAttributeNames: { '#r': A.recipients },
            ExpressionAttributeValues: { ':me': new Set([recipient]), ':one': recipient },
            ReturnValues: 'ALL_NEW',
          }),
        );
        // The last recipient removed takes the attribute with it (DynamoDB has no empty sets).
        return [...((result.Attributes?.[A.recipients] as Set<string> | undefined) ?? [])] as IdentityId[];
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return undefined;
        throw fromAwsError(error);
      }
    },

    async delete(record, nowSeconds) {
      // An expired blob is no longer in the counter after a recount: release only a live one.
      if (record.expiresAt <= nowSeconds) {
        return conditional(() =>
          dynamo.send(
            new DeleteCommand({
              TableName: table,
              Key: blobKey(record.blob),
              ConditionExpression: 'attribute_exists(#k)',
              ExpressionAttributeNames: { '#k': A.key },
            }),
          ),
        );
      }
      try {
        await dynamo.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: table,
                  Key: blobKey(record.blob),
                  ConditionExpression: 'attribute_exists(#k)',
                  ExpressionAttributeNames: { '#k': A.key },
                },
              },
              {
                Update: {
                  TableName: table,
                  Key: counterKey(record.owner),
                  UpdateExpression: 'ADD #c :minusOne, #b :minusSize',
                  ExpressionAttributeNames: { '#c': A.count, '#b': A.bytes },
                  ExpressionAttributeValues: { ':minusOne': -1, ':minusSize': -record.size },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        // Deleted already (a concurrent "done"): the counter was released by that one.
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
        throw fromAwsError(error);
      }
    },
  };
}
