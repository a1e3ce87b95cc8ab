/**
 * A local runner for one test file: started in-process on a temporary data folder, with its log
 * lines captured, on the test run's shared DynamoDB Local and s3rver (global-setup.ts) under a name
 * prefix of its own, so it sees only its own tables and bucket.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { dynamoEphemeralStore } from '../../lambdas/adapters/ephemeral.ts';
import { epochSeconds, systemClock, systemRandom } from '../../lambdas/domain/clock.ts';
import { issueInvite } from '../../lambdas/domain/directory.ts';
import {
  type AwsClients,
  createClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from '../../lambdas/runtime/clients.ts';
import { type Runner, type RunnerOptions, startRunner } from '../../local/runner.ts';

export interface TestRunner {
  readonly runner: Runner;
  /** SDK clients on the runner's DynamoDB and S3, to inspect what it stored (in `runner.tables`, `runner.safeBucket`). */
  readonly clients: AwsClients;
  /** Every handler log line so far. */
  readonly logLines: string[];
  /** Every WebSocket connection id the runner has handed out so far, closed ones included. */
  readonly connectionIds: string[];
  /** The runner's `@connections` endpoint (`http://127.0.0.1:{port}/ws`). */
  readonly managementEndpoint: string;
  stop(): Promise<void>;
}

/**
 * RunnerOptions for a runner on the test run's shared DynamoDB Local and s3rver, under a fresh name
 * prefix. Give the same options again to start a runner on the same tables (a restart).
 */
export function sharedServices(): Required<Pick<RunnerOptions, 'services' | 'namePrefix'>> {
  return {
    services: { dynamodb: inject('dynamoEndpoint'), s3: inject('s3Endpoint') },
    namePrefix: `t${randomBytes(4).toString('hex')}`,
  };
}

export async function startTestRunner(
  options: Partial<Omit<RunnerOptions, 'dataDir' | 'logSink' | 'onConnection'>> = {},
): Promise<TestRunner> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-test-'));
  const logLines: string[] = [];
  const connectionIds: string[] = [];
  const runner = await startRunner({
    port: 0,
    sweepIntervalMs: 0,
    codeSink: () => {},
    ...sharedServices(),
    ...options,
    dataDir,
    logSink: (line) => logLines.push(line),
    onConnection: (id) => connectionIds.push(id),
  });
  const clients = createClients({
    endpoints: runner.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  return {
    runner,
    clients,
    logLines,
    connectionIds,
    managementEndpoint: runner.wsUrl.replace('ws://', 'http://'),
    async stop() {
      clients.destroy();
      await runner.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it holds, or fails after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** An invite written straight into a runner's table, for tests that are not about `invite create`. */
export async function issueTestInvite(runner: Runner): Promise<string> {
  const aws = createClients({
    endpoints: runner.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const ephemeral = dynamoEphemeralStore(aws.dynamo, runner.tables.ephemeral, () =>
      epochSeconds(Date.now()),
    );
    return await issueInvite({ ephemeral, clock: systemClock, random: systemRandom });
  } finally {
    aws.destroy();
  }
}
