/**
 * Every AWS SDK client at once, for the local runner, the tests and the benchmarks, which drive all
 * functions from one process. Each client is created on first use and then reused. Lambda entries
 * never import this file: each creates only its own clients from lambdas/runtime/sdk/.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CodeTransport } from '../adapters/codes.ts';
import type { SecretReader } from '../adapters/secrets.ts';
import { createCodeTransport } from './sdk/codes.ts';
import { createDynamo } from './sdk/dynamo.ts';
import { createManagement, type ManagementClients } from './sdk/management.ts';
import type { ClientOptions } from './sdk/options.ts';
import { createS3 } from './sdk/s3.ts';
import { createLazySecretReader } from './sdk/secrets-lazy.ts';

export {
  type ClientOptions,
  type InjectedFault,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from './sdk/options.ts';

export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  /** The S3 client that signs media URLs (ClientOptions `endpoints.s3Presigned`); `s3` when not set. */
  readonly s3Signer: S3Client;
  /** Secrets Manager's `GetSecretValue` (the server key, the Safe's Basic auth). */
  readonly secrets: SecretReader;
  /** SES and SNS, for verification codes. */
  readonly codes: CodeTransport;
  /** The `@connections` client for one API stage endpoint. */
  management(endpoint: string): ReturnType<ManagementClients>;
  /** Releases sockets (tests and the local runner). */
  destroy(): void;
}

export function createClients(options: ClientOptions = {}): AwsClients {
  let dynamo: DynamoDBDocumentClient | undefined;
  let s3: S3Client | undefined;
  let s3Signer: S3Client | undefined;
  let secrets: SecretReader | undefined;
  let codes: CodeTransport | undefined;
  const management = createManagement(options);
  return {
    get dynamo() {
      dynamo ??= createDynamo(options);
      return dynamo;
    },
    get s3() {
      s3 ??= createS3(options);
      return s3;
    },
    get s3Signer() {
      if (!options.endpoints?.s3Presigned) return this.s3;
      s3Signer ??= createS3(options, 'presigned');
      return s3Signer;
    },
    get secrets() {
      secrets ??= createLazySecretReader(options);
      return secrets;
    },
    get codes() {
      codes ??= createCodeTransport(options);
      return codes;
    },
    management: (endpoint) => management(endpoint),
    destroy() {
      dynamo?.destroy();
      s3?.destroy();
      s3Signer?.destroy();
      management.destroy();
    },
  };
}
