/**
 * Starting DynamoDB Local: its start timeout is long so a busy machine can start it, which makes
 * giving up early matter when the JVM has already died. This test starts a JVM of its own on purpose.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
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
});
