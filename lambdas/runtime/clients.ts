/**
 * The one place AWS SDK clients are created. On Lambda they use the execution role and the
 * Region's endpoints; the local runner and the tests pass endpoints and static credentials.
 * Each client is created on first use and then reused for the life of the container.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ClientOptions {
  /** Endpoint overrides for the local stand-ins; absent on AWS. */
  readonly endpoints?: { readonly dynamodb?: string; readonly s3?: string };
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Retries per request (SDK default 3). */
  readonly maxAttempts?: number;
}

export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  /** Secrets Manager, for secrets read at cold start (the Safe's Basic auth credentials). */
  readonly secrets: SecretsManagerClient;
  /** The `@connections` client for one API stage endpoint. */
  management(endpoint: string): ApiGatewayManagementApiClient;
  /** Releases sockets (tests and the local runner). */
  destroy(): void;
}

/** Credentials the local stand-ins accept: s3rver knows only this key pair and checks no signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

export function createClients(options: ClientOptions = {}): AwsClients {
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
  let dynamo: DynamoDBDocumentClient | undefined;
  let s3: S3Client | undefined;
  let secrets: SecretsManagerClient | undefined;
  const management = new Map<string, ApiGatewayManagementApiClient>();
  return {
    get dynamo() {
      dynamo ??= DynamoDBDocumentClient.from(
        new DynamoDBClient({
          ...common,
          ...(options.endpoints?.dynamodb ? { endpoint: options.endpoints.dynamodb } : {}),
        }),
        { marshallOptions: { removeUndefinedValues: true } },
      );
      return dynamo;
    },
    get s3() {
      s3 ??= new S3Client({
        ...common,
        ...(options.endpoints?.s3 ? { endpoint: options.endpoints.s3, forcePathStyle: true } : {}),
        // Checksums only where S3 requires them: the embedded stand-in does not speak aws-chunked bodies.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      return s3;
    },
    get secrets() {
      secrets ??= new SecretsManagerClient(common);
      return secrets;
    },
    management(endpoint) {
      let client = management.get(endpoint);
      if (!client) {
        client = new ApiGatewayManagementApiClient({ ...common, endpoint });
        management.set(endpoint, client);
      }
      return client;
    },
    destroy() {
      dynamo?.destroy();
      s3?.destroy();
      secrets?.destroy();
      for (const client of management.values()) client.destroy();
    },
  };
}
