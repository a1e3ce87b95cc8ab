/** `GET /health`: the probe against the embedded DynamoDB and S3, and what the route answers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAMES } from '../../contract/schema.ts';
import { awsHealthProbe } from '../../lambdas/adapters/health.ts';
import { makeHealthHandler } from '../../lambdas/handlers/health.ts';
import { freshResources, type TestResources } from '../support/aws.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';

let resources: TestResources;

beforeAll(async () => {
  resources = await freshResources();
});
afterAll(() => resources?.clients.destroy());

const probe = (overrides: { table?: string; bucket?: string; mediaBucket?: string } = {}) =>
  awsHealthProbe({
    dynamo: resources.clients.dynamo,
    tables: Object.fromEntries(
      TABLE_NAMES.map((t) => [t, t === 'mailbox' && overrides.table ? overrides.table : resources.tables[t]]),
    ),
    s3: resources.clients.s3,
    bucket: overrides.bucket ?? resources.bucket,
    // Any bucket that exists stands in for the media bucket here.
    mediaBucket: overrides.mediaBucket ?? resources.bucket,
  });

describe('the health probe', () => {
  it('passes when every table and both buckets answer, and stores nothing', async () => {
    await expect(probe().check()).resolves.toBeUndefined();
    const handler = makeHealthHandler({ probe: probe() });
    const reply = await handler({} as never);
    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(reply.body as string)).toEqual({ status: 'ok' });
  });

  it('fails, naming nothing, when a table or a bucket is not there', async () => {
    for (const broken of [
      probe({ table: 'no-such-table' }),
      probe({ bucket: 'no-such-bucket' }),
      probe({ mediaBucket: 'no-such-bucket' }),
    ]) {
      await expect(broken.check()).rejects.toThrow();
      const reply = await makeHealthHandler({ probe: broken })({} as never);
      expect(reply.statusCode).toBe(503);
      expect(reply.body).toBe('{"status":"unavailable"}');
    }
  });
});

describe('GET /health on the local runner', () => {
  let test: TestRunner;
  beforeAll(async () => {
    test = await startTestRunner();
  });
  afterAll(() => test?.stop());

  it('is the health route once ready: it reaches the runner’s tables and bucket', async () => {
    const reply = await fetch(`${test.runner.httpUrl}health`);
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ status: 'ok' });
    expect(test.logLines.some((line) => JSON.parse(line).route === 'GET /health')).toBe(true);
  });
});
