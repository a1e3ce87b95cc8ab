/**
 * Starting DynamoDB Local: its start timeout is long so a busy machine can start it, which makes
 * giving up early matter when the JVM has already died. These tests start JVMs of their own on purpose.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { startDynamoLocal } from '../../local/dynamodb.ts';

describe('DynamoDB Local start', () => {
  it('gives up as soon as the JVM exits, even if something on its port never answers', {
    timeout: 120_000,
  }, async () => {
    // Accepts connections and never answers: a readiness probe without its own timeout would hang.
    const blocker = createServer(() => {});
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      // A regression either hangs into the test timeout or ends with "no answer in 110 s".
      await expect(startDynamoLocal({ port, startTimeoutMs: 110_000 })).rejects.toThrow(
        /did not start \(it exited\)[\s\S]*Failed to bind/,
      );
    } finally {
      blocker.close();
    }
  });

  it('runs the JVM with the quick C1 compiler only by default (it starts in less time and CPU), without telemetry', async () => {
    const dynamo = await startDynamoLocal();
    try {
      const args = readFileSync(`/proc/${dynamo.pid}/cmdline`, 'utf8').split('\0');
      expect(args[0]).toBe('java');
      expect(args[1]).toBe('-XX:TieredStopAtLevel=1');
      expect(args).toContain('-inMemory');
      // DynamoDB Local's own options come after the jar.
      expect(args.indexOf('-disableTelemetry')).toBeGreaterThan(args.indexOf('-jar'));
      const client = new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
      });
      await expect(client.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [] });
    } finally {
      await dynamo.stop();
    }
  });
});
