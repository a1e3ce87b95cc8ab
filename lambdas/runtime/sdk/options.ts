/**
 * What every AWS SDK client here is built with: the options the local runner, the tests and the
 * benchmarks pass (endpoints, credentials, request counting, fault injection), and the one
 * middleware that adds counting and faults to any client. Imports no SDK package, so a function
 * loads only the clients it creates (one module per client beside this one).
 */

export interface ClientOptions {
  /** Endpoint overrides for the local stand-ins; absent on AWS. */
  readonly endpoints?: {
    readonly dynamodb?: string;
    readonly s3?: string;
    /**
     * Where presigned media URLs point, when not at `s3`: the local runner's own address, whose
     * media proxy checks them as S3 would and forwards to s3rver. Absent on AWS (S3 itself).
     */
    readonly s3Presigned?: string;
  };
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Retries per request (SDK default 3). */
  readonly maxAttempts?: number;
  /**
   * Called for every request attempt the DynamoDB, S3 and `@connections` clients send, with the
   * service and operation (`'DynamoDB', 'TransactWriteItems'`) and the command's input as sent; a
   * function it returns is called when the attempt has finished. The benchmarks count, time and
   * price requests with it; absent on AWS.
   */
  readonly onRequest?: (service: string, operation: string, input: unknown) => (() => void) | undefined;
  /**
   * Called with the capacity DynamoDB reports it consumed for each DynamoDB data request (its
   * `ConsumedCapacity` with the per-index breakdown: every request is sent with
   * `ReturnConsumedCapacity: INDEXES` when this is set). A request that fails, a write refused by its
   * condition among them, reports nothing, though DynamoDB bills such a write. The benchmarks price
   * DynamoDB from it; absent on AWS.
   */
  readonly onConsumedCapacity?: (operation: string, capacity: unknown) => void;
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
    options: {
      readonly step: 'initialize' | 'finalizeRequest';
      readonly priority: 'low';
      readonly name: string;
    },
  ): void;
}

/** The SDK's retry step numbers each attempt in this header (`attempt=2; max=3`). */
function attemptOf(args: unknown): number {
  const header = (args as { request?: { headers?: Record<string, string> } }).request?.headers?.[
    'amz-sdk-request'
  ];
  return Number(/attempt=(\d+)/.exec(header ?? '')?.[1] ?? 1);
}

/** The operation a middleware context names: `PutItemCommand` → `PutItem`. */
function operationOf(context: { readonly commandName?: string }): string {
  return (context.commandName ?? 'unknown').replace(/Command$/, '');
}

/**
 * Adds `onRequest` and `injectFault` to a client: after the retry step, so every attempt on the
 * wire counts once and can fail on its own.
 */
export function observed<C extends { readonly middlewareStack: unknown }>(
  client: C,
  service: string,
  options: Pick<ClientOptions, 'onRequest' | 'injectFault'>,
): C {
  const { onRequest, injectFault } = options;
  const stack = client.middlewareStack as ObservableStack;
  if (onRequest) {
    stack.add(
      (next, context) => async (args) => {
        const done = onRequest(service, operationOf(context), (args as { input?: unknown }).input);
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

/** The DynamoDB operations that can report the capacity they consumed. */
const CAPACITY_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

/**
 * Adds `onConsumedCapacity` to a DynamoDB client: each data request asks for its consumed capacity
 * by index, once per command (not per attempt), and hands what comes back to the callback.
 */
export function capacityObserved<C extends { readonly middlewareStack: unknown }>(
  client: C,
  options: Pick<ClientOptions, 'onConsumedCapacity'>,
): C {
  const { onConsumedCapacity } = options;
  if (!onConsumedCapacity) return client;
  (client.middlewareStack as ObservableStack).add(
    (next, context) => async (args) => {
      const operation = operationOf(context);
      if (!CAPACITY_OPERATIONS.has(operation)) return next(args);
      const { input } = args as { input?: Record<string, unknown> };
      const result = await next({
        ...(args as object),
        input: { ...input, ReturnConsumedCapacity: 'INDEXES' },
      });
      onConsumedCapacity(
        operation,
        (result as { output?: { ConsumedCapacity?: unknown } }).output?.ConsumedCapacity,
      );
      return result;
    },
    { step: 'initialize', priority: 'low', name: 'switchyardConsumedCapacity' },
  );
  return client;
}

/** The settings every client shares: Region, credentials, retries (absent on AWS: the SDK's defaults). */
export function commonConfig(options: ClientOptions) {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  };
}
