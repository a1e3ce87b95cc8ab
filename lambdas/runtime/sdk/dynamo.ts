/** The DynamoDB document client, for every function whose manifest entry names a table. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ClientOptions, capacityObserved, commonConfig, observed } from './options.ts';

export function createDynamo(options: ClientOptions = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    capacityObserved(
      observed(
        new DynamoDBClient({
          ...commonConfig(options),
          ...(options.endpoints?.dynamodb ? { endpoint: options.endpoints.dynamodb } : {}),
        }),
        'DynamoDB',
        options,
      ),
      options,
    ),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}
