/**
 * The one place AWS SDK clients are created. On Lambda they use the execution role and the
 * Region's endpoints; the local runner and the tests pass endpoints and static credentials.
 * Each client is created on first use and then reused for the life of the container.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ClientOptions {
  /** Endpoint overrides for the local stand-ins; absent on AWS. */
  readonly endpoints?: { readonly dynamodb?: string; readonly s3?: string };
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Retries per request (SDK default 3). */
  readonly maxAttempts?: number;
  /**
   * Called for every request attempt the DynamoDB, S3 and `@connections` clients send, with the
   * service and operation (`'DynamoDB', 'TransactWriteItems'`); a function it returns is called when
   * the attempt has finished. The benchmarks count and time requests with it; absent on AWS.
   */
  readonly onRequest?: (service: string, operation: string) => (() => void) | undefined;
  /**
   * Fault injection for the reliability tests; absent on AWS. Called for every attempt of every
   * DynamoDB, S3 and `@connections` request, after the SDK's retry step (so each retry is asked
   * again, `attempt` counting from 1); a fault it returns replaces that attempt's outcome.
   */
  readonly injectFault?: (service: string, operation: string, attempt: number) => InjectedFault | undefined;
}

/** One injected failure of one request attempt (see `ClientOptions.injectFault`). */
export interface InjectedFault {
  /** What the SDK sees instead of the response: a throttling, server or network error. */
  readonly error: Error;
  /**
   * Send the request first, then fail: the service has done the work (a write happened) but the
   * answer is lost, so the SDK retries a request that already succeeded.
   */
  readonly afterSend?: boolean;
}

export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  /** Secrets Manager, for secrets read at cold start (the Safe's Basic auth credentials). */
  readonly secrets: SecretsManagerClient;
  /** Amazon SES (v2), for e-mail verification codes when the deployment configures a sender. */
  readonly ses: SESv2Client;
  /** Amazon SNS, for SMS verification codes when the deployment turns them on. */
  readonly sns: SNSClient;
  /** The `@connections` client for one API stage endpoint. */
  management(endpoint: string): ApiGatewayManagementApiClient;
  /** Releases sockets (tests and the local runner). */
  destroy(): void;
}

/** Credentials the local stand-ins accept: s3rver knows only this key pair and checks no signature. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

/** The part of an SDK client's middleware stack `observed` uses (the clients' types differ). */
interface ObservableStack {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { readonly commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { readonly step: 'finalizeRequest'; readonly priority: 'low'; readonly name: string },
  ): void;
}

/** The SDK's retry step numbers each attempt in this header (`attempt=2; max=3`). */
function attemptOf(args: unknown): number {
  const header = (args as { request?: { headers?: Record<string, string> } }).request?.headers?.[
    'amz-sdk-request'
  ];
  return Number(/attempt=(\d+)/.exec(header ?? '')?.[1] ?? 1);
}

/**
 * Adds `onRequest` and `injectFault` to a client: after the retry step, so every attempt on the
 * wire counts once and can fail on its own.
 */
function observed<C extends { readonly middlewareStack: unknown }>(
  client: C,
  service: string,
  options: Pick<ClientOptions, 'onRequest' | 'injectFault'>,
): C {
  const { onRequest, injectFault } = options;
  const stack = client.middlewareStack as ObservableStack;
  const operationOf = (context: { readonly commandName?: string }) =>
    (context.commandName ?? 'unknown').replace(/Command$/, '');
  if (onRequest) {
    stack.add(
      (next, context) => async (args) => {
        const done = onRequest(service, operationOf(context));
        try {
          return await next(args);
        } finally {
          done?.();
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: 'switchyardOnRequest' },
    );
  }
  if (injectFault) {
    stack.add(
      (next, context) => async (args) => {
        const fault = injectFault(service, operationOf(context), attemptOf(args));
        if (!fault) return next(args);
        if (fault.afterSend) await next(args);
        throw fault.error;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'switchyardInjectFault' },
    );
  }
  return client;
}

export function createClients(options: ClientOptions = {}): AwsClients {
  const common = {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
  let dynamo: DynamoDBDocumentClient | undefined;
  let s3: S3Client | undefined;
  let secrets: SecretsManagerClient | undefined;
  let ses: SESv2Client | undefined;
  let sns: SNSClient | undefined;
  const management = new Map<string, ApiGatewayManagementApiClient>();
  return {
    get dynamo() {
      dynamo ??= DynamoDBDocumentClient.from(
        observed(
          new DynamoDBClient({
            ...common,
            ...(options.endpoints?.dynamodb ? { endpoint: options.endpoints.dynamodb } : {}),
          }),
          'DynamoDB',
          options,
        ),
        { marshallOptions: { removeUndefinedValues: true } },
      );
      return dynamo;
    },
    get s3() {
      s3 ??= observed(
        new S3Client({
          ...common,
          ...(options.endpoints?.s3 ? { endpoint: options.endpoints.s3, forcePathStyle: true } : {}),
          // Checksums only where S3 requires them: the embedded stand-in does not speak aws-chunked bodies.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
        'S3',
        options,
      );
      return s3;
    },
    get secrets() {
      secrets ??= new SecretsManagerClient(common);
      return secrets;
    },
    get ses() {
      ses ??= new SESv2Client(common);
      return ses;
    },
    get sns() {
      sns ??= new SNSClient(common);
      return sns;
    },
    management(endpoint) {
      let client = management.get(endpoint);
      if (!client) {
        client = observed(
          new ApiGatewayManagementApiClient({ ...common, endpoint }),
          'ApiGatewayManagementApi',
          options,
        );
        management.set(endpoint, client);
      }
      return client;
    },
    destroy() {
      dynamo?.destroy();
      s3?.destroy();
      secrets?.destroy();
      ses?.destroy();
      sns?.destroy();
      for (const client of management.values()) client.destroy();
    },
  };
}
