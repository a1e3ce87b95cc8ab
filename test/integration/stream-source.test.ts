/**
 * The runner's stand-in for Lambda's stream event source (local/streams.ts), on the test run's
 * DynamoDB Local: when reading the stream fails for a while (DynamoDB Local busy or restarting), it
 * goes on from where it was, as an event source mapping resumes from its checkpoint, so the records
 * written meanwhile still reach the function.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { createDynamo } from '../../lambdas/runtime/sdk/dynamo.ts';
import { startStreamSource } from '../../local/streams.ts';
import { eventually } from '../support/runner.ts';

const endpoint = inject('dynamoEndpoint');
const tableName = `stream${randomBytes(4).toString('hex')}`;
const config = { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const admin = new DynamoDBClient(config);
const dynamo = createDynamo({
  endpoints: { dynamodb: endpoint },
  region: LOCAL_REGION,
  credentials: LOCAL_CREDENTIALS,
});

beforeAll(async () => {
  await admin.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
});

afterAll(async () => {
  await admin.send(new DeleteTableCommand({ TableName: tableName }));
  admin.destroy();
  dynamo.destroy();
});

describe('the local stream source', () => {
  it('after failed reads, delivers the records written meanwhile, each once', async () => {
    const delivered: string[] = [];
    let failing = false;
    let refused = 0;
    const source = startStreamSource({
      endpoint,
      tableName,
      pattern: { eventName: ['INSERT'] },
      batchSize: 100,
      retryAttempts: 0,
      pollMs: 50,
      handler: async (event) => {
        for (const record of event.Records) delivered.push(String(record.dynamodb?.Keys?.k?.S));
        return { batchItemFailures: [] };
      },
      injectFault: (_service, operation) => {
        if (!failing || operation !== 'GetRecords') return undefined;
        refused++;
        return { error: Object.assign(new Error('injected'), { name: 'InternalServerError' }) };
      },
    });
    try {
      const put = (k: string) => dynamo.send(new PutCommand({ TableName: tableName, Item: { k } }));
      // The source starts at the stream's end: wait until it reads, then write the first record.
      let probes = 0;
      await eventually(async () => {
        await put(`probe-${probes++}`);
        return delivered.length > 0;
      });
      failing = true;
      await eventually(() => refused >= 3);
      await put('while-failing-1');
      await put('while-failing-2');
      const before = refused;
      await eventually(() => refused > before);
      failing = false;
      await eventually(() => delivered.includes('while-failing-2'));
      expect(delivered.filter((k) => k.startsWith('while-failing'))).toEqual([
        'while-failing-1',
        'while-failing-2',
      ]);
    } finally {
      await source.stop();
    }
  });
});
