/**
 * Provisioning a data folder written by an older version: the tables are brought to the schema as
 * CloudFormation would bring a deployed table, deleting the indexes removed since and adding those
 * added since, with the items kept. On a DynamoDB Local of its own, as the runner's start-up has:
 * on the test run's shared one, busy with every other file, an index deletion once stayed
 * DELETING for over a minute.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTIONS } from '../../contract/schema.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { type DynamoLocal, startDynamoLocal } from '../../local/dynamodb.ts';
import { ensureTable } from '../../local/provision.ts';

let local: DynamoLocal;
let dynamo: DynamoDBClient;
beforeAll(async () => {
  local = await startDynamoLocal();
  dynamo = new DynamoDBClient({
    endpoint: local.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});
afterAll(async () => {
  dynamo?.destroy();
  await local?.stop();
});

/** The table's indexes, each with its status: provisioning returns only when none is still changing. */
const indexesOf = async (table: string) =>
  ((await dynamo.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? [])
    .map((index) => `${index.IndexName} ${index.IndexStatus}`)
    .sort();

describe('provisioning an older data folder', () => {
  it('deletes the indexes the schema no longer has and adds the ones it gained, keeping the items', async () => {
    const table = `test-${randomBytes(4).toString('hex')}-connections`;
    // The connections table as it was before `byIdentity` went, and before `byPending` came.
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'connectionId', AttributeType: 'S' },
          { AttributeName: 'identity', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'connectionId', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byIdentity',
            KeySchema: [{ AttributeName: 'identity', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['sessionKey', 'expiresAt', 'state'] },
          },
        ],
      }),
    );
    const item = { connectionId: { S: 'c1' }, identity: { S: 'ABCD1234' }, state: { S: 'ready' } };
    await dynamo.send(new PutItemCommand({ TableName: table, Item: item }));

    await ensureTable(dynamo, CONNECTIONS, table);

    // DynamoDB changes one index of a table at a time: the new one only after the old one is gone.
    expect(await indexesOf(table)).toEqual(
      CONNECTIONS.indexes.map((index) => `${index.indexName} ACTIVE`).sort(),
    );
    const kept = await dynamo.send(
      new GetItemCommand({ TableName: table, Key: { connectionId: { S: 'c1' } } }),
    );
    expect(kept.Item).toEqual(item);
    // Again on the same table: nothing left to change.
    await ensureTable(dynamo, CONNECTIONS, table);
    expect(await indexesOf(table)).toEqual(['byPending ACTIVE']);
  });
});
