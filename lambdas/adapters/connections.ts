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
import type { SessionRecord, SessionStore } from '../domain/chat.ts';
import type { ConnectionRecord, ConnectionStore } from '../domain/connections.ts';
import { conditional, translateAwsError } from './errors.ts';

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
      await translateAwsError(() =>
        dynamo.send(new DeleteCommand({ TableName: tableName, Key: { [A.connectionId]: connectionId } })),
      );
    },
  };
}

const SESSION_INDEX = CONNECTIONS.indexes[0].indexName;
const PENDING_INDEX = CONNECTIONS.indexes[1].indexName;

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
            UpdateExpression:
              'SET #state = :ready, #identity = :identity, #key = :key REMOVE #tsk, #tck, #sck, #pending',
            ConditionExpression: '#state = :hello',
            ExpressionAttributeNames: {
              '#state': A.state,
              '#identity': A.identity,
              '#key': A.sessionKey,
              '#tsk': A.serverTempSecret,
              '#tck': A.clientTempPublic,
              '#sck': A.serverCookie,
              '#pending': A.pending,
            },
            ExpressionAttributeValues: {
              ':ready': 'ready',
              ':hello': 'hello',
              ':identity': identity,
              ':key': sessionKey,
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

    async liveSessions(identity, nowSeconds) {
      const result = await translateAwsError(() =>
        dynamo.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: SESSION_INDEX,
            KeyConditionExpression: '#identity = :identity',
            // TTL deletes lazily: an expired record is treated as gone whether or not it still exists.
            FilterExpression: '#exp > :now AND #state = :ready',
            ExpressionAttributeNames: { '#identity': A.identity, '#exp': A.expiresAt, '#state': A.state },
            ExpressionAttributeValues: { ':identity': identity, ':now': nowSeconds, ':ready': 'ready' },
          }),
        ),
      );
      return (result.Items ?? []).map((item) => ({
        connectionId: String(item[A.connectionId]),
        sessionKey: item[A.sessionKey] as Uint8Array,
      }));
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
