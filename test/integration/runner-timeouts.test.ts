/** API Gateway's idle timeout and connection lifetime, shortened for the test through the runner's options. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runner, startRunner } from '../../local/runner.ts';
import { CLOSE } from '../../local/ws-api.ts';
import { sharedServices } from '../support/runner.ts';
import { openSocket } from '../support/ws.ts';

const IDLE_MS = 600;
const LIFETIME_MS = 2500;
let runner: Runner;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-timeouts-'));
  runner = await startRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    ws: { idleTimeoutMs: IDLE_MS, maxLifetimeMs: LIFETIME_MS },
    logSink: () => {},
    ...sharedServices(),
  });
});

afterAll(async () => {
  await runner?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('connection timeouts', () => {
  it('closes an idle connection with 1001', async () => {
    const socket = await openSocket(runner.wsUrl);
    const opened = Date.now();
    expect(await socket.closed).toBe(CLOSE.goingAway);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });

  it('keeps a connection that sends keep-alives open past the idle timeout, until its lifetime ends', async () => {
    const socket = await openSocket(runner.wsUrl);
    const opened = Date.now();
    const timer = setInterval(() => socket.send('{"action":"echo"}'), IDLE_MS / 3);
    const code = await socket.closed;
    clearInterval(timer);
    expect(code).toBe(CLOSE.goingAway);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(LIFETIME_MS - 50);
  });
});
