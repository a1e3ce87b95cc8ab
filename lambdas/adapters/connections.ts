/** The connections table behind ConnectionStore. */
import { randomInt } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { CONNECTIONS, PENDING_SHARDS } from '../../contract/schema.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { FrameCheck, SessionRecord, SessionStore } from '../domain/chat.ts';
import type { ConnectionRecord, ConnectionStore } from '../domain/connections.ts';
import { conditional, fromAwsError, translateAwsError } from './errors.ts';

const A = CONNECTIONS.attributes;

export function dynamoConnectionStore(dynamo: DynamoDBDocumentClient, tableName: string): ConnectionStore {
  return {
    async open(record: ConnectionRecord) {
      await translateAwsError(() =>
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              [A.connectionId]: record.connectionId,
              [A.connectedAt]: record.connectedAt,
              [A.expiresAt]: record.expiresAt,
              // Not logged in yet: listed (on a random shard) for the login-deadline reaper.
              [A.pending]: PENDING_SHARDS[randomInt(PENDING_SHARDS.length)],
            },
          }),
        ),
      );
    },
    async close(connectionId: string) {
      const result = await translateAwsError(() =>
        dynamo.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { [A.connectionId]: connectionId },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      const identity = result.Attributes?.[A.identity];
      return typeof identity === 'string' ? (identity as IdentityId) : undefined;
    },
  };
}

const PENDING_INDEX = CONNECTIONS.indexes[0].indexName;

function toSession(item: Record<string, unknown>): SessionRecord {
  const base = { connectedAt: Number(item[A.connectedAt]), expiresAt: Number(item[A.expiresAt]) };
  switch (item[A.state]) {
    case undefined:
      return { state: 'new', ...base };
    case 'hello':
      return {
        state: 'hello',
        ...base,
        serverTempSecret: item[A.serverTempSecret] as Uint8Array,
        clientTempPublic: item[A.clientTempPublic] as Uint8Array,
        serverCookie: item[A.serverCookie] as Uint8Array,
      };
    case 'ready':
      return {
        state: 'ready',
        ...base,
        identity: item[A.identity] as IdentityId,
        sessionKey: item[A.sessionKey] as Uint8Array,
      };
    default:
      return { state: 'failed', ...base };
  }
}

/** Session state on the connection records; every transition is a conditional update. */
export function dynamoSessionStore(dynamo: DynamoDBDocumentClient, tableName: string): SessionStore {
  const key = (connectionId: string) => ({ [A.connectionId]: connectionId });
  return {
    async get(connectionId) {
      const result = await translateAwsError(() =>
        dynamo.send(new GetCommand({ TableName: tableName, Key: key(connectionId), ConsistentRead: true })),
      );
      return result.Item ? toSession(result.Item) : undefined;
    },

    beginHandshake(connectionId, handshake) {
      return conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(connectionId),
            UpdateExpression: 'SET #state = :hello, #tsk = :tsk, #tck = :tck, #sck = :sck',
            ConditionExpression: 'attribute_exists(#id) AND attribute_not_exists(#state)',
            ExpressionAttributeNames: {
              '#id': A.connectionId,
              '#state': A.state,
              '#tsk': A.serverTempSecret,
              '#tck': A.clientTempPublic,
              '#sck': A.serverCookie,
            },
            ExpressionAttributeValues: {
              ':hello': 'hello',
              ':tsk': handshake.serverTempSecret,
              ':tck': handshake.clientTempPublic,
              ':sck': handshake.serverCookie,
            },
          }),
        ),
      );
    },

    completeLogin(connectionId, identity, sessionKey) {
      return conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(connectionId),
            // The temporary secret is dropped: from here on only the session key exists. Logged in,
            // the connection leaves the reaper's index.
            // Every replay slot starts at 0: frame counters start at 1.
            UpdateExpression:
              'SET #state = :ready, #identity = :identity, #key = :key, #replay = :slots REMOVE #tsk, #tck, #sck, #pending',
            ConditionExpression: '#state = :hello',
            ExpressionAttributeNames: {
              '#state': A.state,
              '#identity': A.identity,
              '#key': A.sessionKey,
              '#tsk': A.serverTempSecret,
              '#tck': A.clientTempPublic,
              '#sck': A.serverCookie,
              '#pending': A.pending,
              '#replay': A.replay,
            },
            ExpressionAttributeValues: {
              ':ready': 'ready',
              ':hello': 'hello',
              ':identity': identity,
              ':key': sessionKey,
              ':slots': new Array(LIMITS.replayWindowFrames).fill(0),
            },
          }),
        ),
      );
    },

    async fail(connectionId) {
      await conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(connectionId),
            UpdateExpression: 'SET #state = :failed REMOVE #tsk, #tck, #sck, #identity, #key',
            ConditionExpression: 'attribute_exists(#id)',
            ExpressionAttributeNames: {
              '#id': A.connectionId,
              '#state': A.state,
              '#tsk': A.serverTempSecret,
              '#tck': A.clientTempPublic,
              '#sck': A.serverCookie,
              '#identity': A.identity,
              '#key': A.sessionKey,
            },
            ExpressionAttributeValues: { ':failed': 'failed' },
          }),
        ),
      );
    },

    async frame(connectionId, counter, nowSeconds, send) {
      const slot = counter % LIMITS.replayWindowFrames;
      const names: Record<string, string> = {
        '#state': A.state,
        '#exp': A.expiresAt,
        '#replay': A.replay,
      };
      const values: Record<string, unknown> = { ':ready': 'ready', ':now': nowSeconds, ':n': counter };
      let condition = `#state = :ready AND #exp > :now AND #replay[${slot}] < :n`;
      if (send) {
        names['#blocked'] = A.blockedUntil;
        condition += ' AND (attribute_not_exists(#blocked) OR #blocked <= :now)';
      }
      try {
        const result = await dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(connectionId),
            // One write accepts the frame: the counter is new in its slot (replay protection), and
            // it returns the session, so no read comes before it.
            UpdateExpression: `SET #replay[${slot}] = :n`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        const item = result.Attributes!;
        return {
          ok: true,
          session: { identity: item[A.identity] as IdentityId, sessionKey: item[A.sessionKey] as Uint8Array },
        };
      } catch (error) {
        if ((error as { name?: unknown } | null)?.name !== 'ConditionalCheckFailedException')
          throw fromAwsError(error);
      }
      // Refused (rare): read the record once to say why.
      const found = await translateAwsError(() =>
        dynamo.send(new GetCommand({ TableName: tableName, Key: key(connectionId), ConsistentRead: true })),
      );
      const item = found.Item;
      const slots = item?.[A.replay];
      if (item?.[A.state] !== 'ready' || Number(item[A.expiresAt]) <= nowSeconds || !Array.isArray(slots))
        return { ok: false, code: 'not_logged_in' } satisfies FrameCheck;
      const session = {
        identity: item[A.identity] as IdentityId,
        sessionKey: item[A.sessionKey] as Uint8Array,
      };
      const seen = Number(slots[slot] ?? 0);
      return { ok: false, code: seen >= counter ? 'replayed' : 'rate_limited', session } satisfies FrameCheck;
    },

    async block(connectionId, untilSeconds) {
      await conditional(() =>
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(connectionId),
            UpdateExpression: 'SET #blocked = :until',
            ConditionExpression: 'attribute_exists(#id)',
            ExpressionAttributeNames: { '#blocked': A.blockedUntil, '#id': A.connectionId },
            ExpressionAttributeValues: { ':until': untilSeconds },
          }),
        ),
      );
    },

    async remove(connectionId) {
      await translateAwsError(() =>
        dynamo.send(new DeleteCommand({ TableName: tableName, Key: key(connectionId) })),
      );
    },

    async pendingBefore(connectedBefore, limit) {
      const found: string[] = [];
      for (const shard of PENDING_SHARDS) {
        const result = await translateAwsError(() =>
          dynamo.send(
            new QueryCommand({
              TableName: tableName,
              IndexName: PENDING_INDEX,
              KeyConditionExpression: '#pending = :shard AND #at < :before',
              ExpressionAttributeNames: { '#pending': A.pending, '#at': A.connectedAt },
              ExpressionAttributeValues: { ':shard': shard, ':before': connectedBefore },
              Limit: limit,
            }),
          ),
        );
        for (const item of result.Items ?? []) found.push(String(item[A.connectionId]));
      }
      return found.slice(0, limit);
    },
  };
}
