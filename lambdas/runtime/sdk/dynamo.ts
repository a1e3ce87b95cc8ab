/** The DynamoDB document client, for every function whose manifest entry names a table. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ClientOptions, commonConfig, observed } from './options.ts';

export function createDynamo(options: ClientOptions = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    observed(
      new DynamoDBClient({
        ...commonConfig(options),
        ...(options.endpoints?.dynamodb ? { endpoint: options.endpoints.dynamodb } : {}),
      }),
      'DynamoDB',
      options,
    ),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}
