/**
 * Creates the tables and the bucket from the schema module when they are missing, as the CDK
 * stateful stack does on AWS: same keys, same TTL attributes.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  type IndexSchema,
  TABLE_NAMES,
  TABLES,
  type TableName,
  type TableSchema,
} from '../contract/schema.ts';

function indexDefinition(index: IndexSchema) {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
      ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : []),
    ],
    Projection:
      index.include.length > 0
        ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...index.include] }
        : { ProjectionType: 'KEYS_ONLY' as const },
  };
}

/** How long an index change may take to finish on DynamoDB Local before provisioning gives up. */
const INDEX_CHANGE_TIMEOUT_MS = 60_000;

/** Waits until the table and every index on it are ACTIVE: no index change is in progress. */
async function indexesSettled(dynamo: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + INDEX_CHANGE_TIMEOUT_MS;
  for (;;) {
    const { Table: described } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    const settled =
      described?.TableStatus === 'ACTIVE' &&
      (described.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (settled) return;
    if (Date.now() > deadline)
      throw new Error(`An index change on a table did not finish in ${INDEX_CHANGE_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function ensureTable(
  dynamo: DynamoDBClient,
  table: TableSchema,
  tableName: string,
): Promise<void> {
  const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
  const indexes = table.indexes ?? [];
  const localIndexes = table.localIndexes ?? [];
  const attributes = [
    ...new Map(
      [
        ...keys,
        ...indexes.flatMap((index) => [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])]),
        ...localIndexes.map((index) => index.sortKey),
      ].map((key) => [key.name, key]),
    ).values(),
  ];
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributes.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
        KeySchema: keys.map((key, index) => ({
          AttributeName: key.name,
          KeyType: index === 0 ? 'HASH' : 'RANGE',
        })),
        ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes.map(indexDefinition) } : {}),
        ...(localIndexes.length > 0
          ? {
              LocalSecondaryIndexes: localIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: table.partitionKey.name, KeyType: 'HASH' as const },
                  { AttributeName: index.sortKey.name, KeyType: 'RANGE' as const },
                ],
                Projection: { ProjectionType: 'ALL' as const },
              })),
            }
          : {}),
        ...(table.stream
          ? { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }
          : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const description = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
  if (description.Table?.TableStatus !== 'ACTIVE')
    throw new Error(`Table ${table.logicalName} is not active`);
  // A data folder from an older version may hold indexes removed since, and lack indexes added
  // since: delete and add them, as CloudFormation would.
  const present = new Set((description.Table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const wanted = new Set(indexes.map((index) => index.indexName));
  // DynamoDB takes one index change per table at a time: each waits for the one before to finish.
  for (const name of [...present].filter((candidate) => candidate && !wanted.has(candidate))) {
    await dynamo.send(
      new UpdateTableCommand({
        TableName: tableName,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: name } }],
      }),
    );
    await indexesSettled(dynamo, tableName);
  }
  for (const index of indexes.filter((candidate) => !present.has(candidate.indexName))) {
    await dynamo.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [index.partitionKey, ...(index.sortKey ? [index.sortKey] : [])].map((key) => ({
          AttributeName: key.name,
          AttributeType: key.type,
        })),
        GlobalSecondaryIndexUpdates: [{ Create: indexDefinition(index) }],
      }),
    );
    await indexesSettled(dynamo, tableName);
  }
  // …and a stream added since (the mailbox's, which feeds the wake-ups).
  if (table.stream && !description.Table.StreamSpecification?.StreamEnabled) {
    await dynamo.send(
      new UpdateTableCommand({
        TableName: tableName,
        StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream },
      }),
    );
  }
  if (table.ttlAttribute) {
    // DynamoDB Local records the setting but deletes nothing; the runner's sweeper does that.
    await dynamo
      .send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
        }),
      )
      .catch((error: Error) => {
        if (!/already enabled/i.test(error.message)) throw error;
      });
  }
}

export async function ensureTables(
  dynamo: DynamoDBClient,
  names: (table: TableName) => string,
): Promise<void> {
  for (const table of TABLE_NAMES) await ensureTable(dynamo, TABLES[table], names(table));
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou) && (error as Error).name !== 'BucketAlreadyExists')
      throw error;
  }
}
