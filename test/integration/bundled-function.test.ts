/**
 * The code `cdk deploy` uploads, not the sources the runner runs: the `wsConnect` entry bundled as
 * the CDK app bundles it (its own AWS SDK inside, split into chunks), loaded in a fresh Node.js
 * process as Lambda's runtime loads it, and invoked with a `$connect` event against DynamoDB Local.
 * That takes the chunks a cold start does not load (the environment's credentials provider, the SDK's
 * HTTP handler for an `http:` endpoint), SigV4 signing and the DynamoDB protocol, all from the
 * bundle. The endpoint reaches the SDK as `AWS_ENDPOINT_URL_DYNAMODB`, the SDK's own setting.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FUNCTIONS } from '../../contract/manifest.ts';
import { CONNECTIONS, TABLES } from '../../contract/schema.ts';
import { WIRING } from '../../contract/settings.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { BUNDLE_ENTRY_FILE, esbuildOptions, fakeLambdaEnvironment } from '../../lib/constructs/bundling.ts';
import { ensureTable } from '../../local/provision.ts';

const out = mkdtempSync(join(tmpdir(), 'switchyard-bundled-'));
const table = `test-${Date.now().toString(36)}-bundled-connections`;
let raw: DynamoDBClient;

beforeAll(async () => {
  raw = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  await Promise.all([
    ensureTable(raw, TABLES.connections, table),
    build(esbuildOptions(FUNCTIONS.wsConnect.entry, out)),
  ]);
});

afterAll(() => {
  raw.destroy();
  rmSync(out, { recursive: true, force: true });
});

/** Loads the bundle in a fresh process, invokes its handler with `event`; its answer and its output. */
async function invokeBundle(event: unknown) {
  const script = [
    'const { handler } = await import(process.argv[1]);',
    'const result = await handler(JSON.parse(process.argv[2]), {});',
    "process.stdout.write('\\nRESULT ' + JSON.stringify(result));",
  ].join('\n');
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      pathToFileURL(join(out, BUNDLE_ENTRY_FILE)).href,
      JSON.stringify(event),
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...fakeLambdaEnvironment(),
        [WIRING.tables.connections]: table,
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
      },
    },
  );
  const result = /\nRESULT (.*)$/.exec(stdout)?.[1];
  return { result: result === undefined ? undefined : JSON.parse(result), output: stdout + stderr };
}

describe('a function as deployed', () => {
  it('stores the connection a $connect event opens, through the SDK in its bundle', async () => {
    const connectionId = 'bundled-Zq3=';
    const connectedAt = Date.now();
    const { result, output } = await invokeBundle({
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        connectionId,
        connectedAt,
        requestTimeEpoch: connectedAt,
        messageDirection: 'IN',
        stage: 'ws',
        apiId: 'local',
      },
      isBase64Encoded: false,
    });
    expect(result).toEqual({ statusCode: 200 });
    const docs = DynamoDBDocumentClient.from(raw);
    const stored = await docs.send(
      new GetCommand({ TableName: table, Key: { [CONNECTIONS.attributes.connectionId]: connectionId } }),
    );
    expect(stored.Item).toMatchObject({ connectionId, connectedAt });
    // Its one log line names the route and the outcome, never the connection.
    expect(output).toContain('$connect');
    expect(output).not.toContain(connectionId);
  });
});
