/**
 * `npm start` as a user runs it: ready within seconds, /health, a WebSocket round trip through
 * $connect/$default/$disconnect, a clean Ctrl-C that leaves no java behind, a kept server key,
 * and clear messages when the port is taken or Java is missing.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/ports.ts';
import { isAlive, RUNNER_READY, type StartedProcess, startProcess } from '../support/process.ts';
import { openSocket } from '../support/ws.ts';

/** Seconds at rest; a busy machine (load ~15 on 2 cores) has needed more than 30 to start the JVM. */
const START_MS = 90_000;
const dirs: string[] = [];
const started: StartedProcess[] = [];

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-e2e-'));
  dirs.push(dir);
  return dir;
}

function npmStart(env: Record<string, string>): StartedProcess {
  const child = startProcess('npm', ['start', '--silent'], { ...process.env, ...env });
  started.push(child);
  return child;
}

afterAll(() => {
  for (const child of started) child.signal('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('serves /health and a WebSocket round trip, then stops cleanly on Ctrl-C', {
    timeout: 240_000,
  }, async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const runner = npmStart({ PORT: String(port), DATA_DIR: dataDir });
    const [, httpUrl, wsUrl, safeUrl, serverKey] = await runner.waitForOutput(RUNNER_READY, START_MS);
    expect(httpUrl).toBe(`http://127.0.0.1:${port}/`);
    expect(wsUrl).toBe(`ws://127.0.0.1:${port}/ws`);
    expect(safeUrl).toBe(`http://127.0.0.1:${port}/safe/`);
    // It said what it was doing on the way, step by step, before the ready line.
    const steps = runner.output().slice(0, runner.output().indexOf('switchyard ready'));
    expect(steps).toMatch(
      /starting DynamoDB Local \(Java\) and the S3 server[^\n]*\n(.*\n)*.*creating the tables and the Safe bucket[^\n]*\n(.*\n)*.*tables and bucket ready/,
    );

    const health = await fetch(`${httpUrl}health`);
    expect(health.status).toBe(200);

    const socket = await openSocket(wsUrl!);
    // The keep-alive: answered by the gateway itself, the MOCK route's exact bytes, no handler.
    socket.send('{"action":"echo","data":"round trip"}');
    expect(await socket.next()).toBe('{"action":"echo"}');
    socket.send('{"action":"launch"}');
    expect(JSON.parse(await socket.next())).toEqual({ action: 'error', code: 'unknown_action' });
    await runner.waitForOutput(/"route":"\$default"/);
    expect(runner.output()).not.toMatch(/"route":"echo"/);
    socket.socket.close();
    await socket.closed;
    // $disconnect runs after the close, as on API Gateway.
    await runner.waitForOutput(/"route":"\$disconnect"/);

    // Ctrl-C reaches every process in the terminal's foreground group.
    const javaPid = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));
    expect(isAlive(javaPid)).toBe(true);
    runner.signal('SIGINT');
    expect([0, 'SIGINT']).toContain(await runner.exited);
    await eventually(() => !isAlive(javaPid));
    await expect(fetch(`${httpUrl}health`)).rejects.toThrow();

    // The handler log lines name routes and outcomes only.
    const logLines = runner
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.map((line) => JSON.parse(line).route)).toEqual(
      expect.arrayContaining(['$connect', '$default', '$disconnect']),
    );
    for (const line of logLines) expect(line).not.toContain('127.0.0.1');

    // A second start on the same data folder keeps the server key.
    const again = npmStart({ PORT: String(port), DATA_DIR: dataDir });
    const [, , , , sameKey] = await again.waitForOutput(RUNNER_READY, START_MS);
    expect(sameKey).toBe(serverKey);

    // SIGTERM to the runner alone (as a process manager sends it): the runner itself stops java.
    const runnerPid = JSON.parse(readFileSync(join(dataDir, 'runner.json'), 'utf8')).pid as number;
    const secondJava = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));
    process.kill(runnerPid, 'SIGTERM');
    await again.waitForOutput(/SIGTERM received, stopping/);
    await eventually(() => !isAlive(runnerPid));
    expect(isAlive(secondJava)).toBe(false);
    expect(await again.exited).toBe(0);
  });

  it('says so clearly when the port is taken', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const runner = npmStart({ PORT: String(port), DATA_DIR: tempDir() });
      expect(await runner.exited).toBe(1);
      expect(runner.output()).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(runner.output()).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('says so clearly when Java is missing', async () => {
    const bin = tempDir();
    symlinkSync(process.execPath, join(bin, 'node'));
    const runner = startProcess(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'local/main.ts'], {
      ...process.env,
      PATH: bin,
      PORT: String(await freePort()),
      DATA_DIR: tempDir(),
    });
    started.push(runner);
    expect(await runner.exited).toBe(1);
    expect(runner.output()).toContain('DynamoDB Local needs Java 17 or newer');
  });
});
