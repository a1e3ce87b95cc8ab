/** Real SDK clients and fresh tables/buckets on the embedded servers, for integration tests. */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inject } from 'vitest';
import { TABLE_NAMES, type TableName } from '../../contract/schema.ts';
import {
  type AwsClients,
  createClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from '../../lambdas/runtime/clients.ts';
import { ensureBucket, ensureTables } from '../../local/provision.ts';

export interface TestResources {
  readonly clients: AwsClients;
  readonly tables: Record<TableName, string>;
  readonly bucket: string;
}

/** Creates uniquely named tables and a bucket, so test files never see each other's data. */
export async function freshResources(): Promise<TestResources> {
  const endpoints = { dynamodb: inject('dynamoEndpoint'), s3: inject('s3Endpoint') };
  const clients = createClients({ endpoints, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const suffix = randomBytes(4).toString('hex');
  const tables = Object.fromEntries(TABLE_NAMES.map((t) => [t, `test-${suffix}-${t}`])) as Record<
    TableName,
    string
  >;
  const raw = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await ensureTables(raw, (table) => tables[table]);
  raw.destroy();
  const bucket = `test-${suffix}`;
  await ensureBucket(clients.s3, bucket);
  return { clients, tables, bucket };
}
