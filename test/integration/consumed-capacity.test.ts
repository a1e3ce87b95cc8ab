/**
 * The benchmarks price DynamoDB at what DynamoDB reports consuming: with `onConsumedCapacity` set,
 * each data request of the handlers' document client asks for its capacity by index and hands it
 * over, and the handlers get the same answers as without. Against DynamoDB Local.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONNECTIONS } from '../../contract/schema.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { createDynamo } from '../../lambdas/runtime/sdk/dynamo.ts';
import { ensureTable } from '../../local/provision.ts';

const table = `test-${randomBytes(4).toString('hex')}-connections`;
const endpoint = inject('dynamoEndpoint');
const reports: Array<{ operation: string; capacity: unknown }> = [];
const options = { endpoints: { dynamodb: endpoint }, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const observed = createDynamo({
  ...options,
  onConsumedCapacity: (operation, capacity) => reports.push({ operation, capacity }),
});
const plain = createDynamo(options);

beforeAll(async () => {
  const raw = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await ensureTable(raw, CONNECTIONS, table);
  raw.destroy();
});
afterAll(() => {
  observed.destroy();
  plain.destroy();
});

describe('consumed capacity', () => {
  it('reports each data request’s units, those of the indexes apart, and changes no answer', async () => {
    // A connection before login: in the login-deadline index.
    const item = { connectionId: 'c1', pending: '3', connectedAt: 1 };
    await observed.send(new PutCommand({ TableName: table, Item: item }));
    const read = await observed.send(
      new GetCommand({ TableName: table, Key: { connectionId: 'c1' }, ConsistentRead: true }),
    );
    expect(read.Item).toEqual(item);
    expect(read.Item).toEqual(
      (await plain.send(new GetCommand({ TableName: table, Key: { connectionId: 'c1' } }))).Item,
    );
    await observed.send(new DeleteCommand({ TableName: table, Key: { connectionId: 'c1' } }));

    const index = { byPending: { CapacityUnits: 1 } };
    expect(reports).toEqual([
      {
        operation: 'PutItem',
        capacity: {
          TableName: table,
          CapacityUnits: 2,
          Table: { CapacityUnits: 1 },
          GlobalSecondaryIndexes: index,
        },
      },
      { operation: 'GetItem', capacity: { TableName: table, CapacityUnits: 1, Table: { CapacityUnits: 1 } } },
      {
        operation: 'DeleteItem',
        capacity: {
          TableName: table,
          CapacityUnits: 2,
          Table: { CapacityUnits: 1 },
          GlobalSecondaryIndexes: index,
        },
      },
    ]);
  });
});
