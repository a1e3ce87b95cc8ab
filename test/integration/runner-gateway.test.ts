import {
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTIONS } from '../../contract/schema.ts';
import type { AwsClients } from '../../lambdas/runtime/clients.ts';
import type { Runner } from '../../local/runner.ts';
import { CLOSE } from '../../local/ws-api.ts';
import { ECHO_FRAME } from '../../protocol/frames.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';
import { openSocket } from '../support/ws.ts';

let harness: TestRunner;
let runner: Runner;
let clients: AwsClients;
let logLines: string[];
const seenConnectionIds = new Set<string>();

async function connectionIds(): Promise<string[]> {
  const page = await clients.dynamo.send(new ScanCommand({ TableName: runner.tables.connections }));
  const ids = (page.Items ?? []).map((item) => String(item[CONNECTIONS.attributes.connectionId]));
  for (const id of ids) seenConnectionIds.add(id);
  return ids;
}

/** Opens a socket and finds its connection id as the one new record in the connections table. */
async function openTracked() {
  const before = new Set(await connectionIds());
  const socket = await openSocket(runner.wsUrl);
  const added = (await connectionIds()).filter((id) => !before.has(id));
  expect(added).toHaveLength(1);
  return { ...socket, connectionId: added[0]! };
}

beforeAll(async () => {
  harness = await startTestRunner();
  ({ runner, clients, logLines } = harness);
});

afterAll(() => harness?.stop());

describe('local runner', () => {
  it('answers /health with 200 once ready', async () => {
    const response = await fetch(`${runner.httpUrl}health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown HTTP paths and unknown WebSocket paths with 404', async () => {
    expect((await fetch(`${runner.httpUrl}nothing/here`)).status).toBe(404);
    await expect(openSocket(runner.httpUrl.replace('http', 'ws') + 'elsewhere')).rejects.toThrow('HTTP 404');
  });

  it('turns connect, frames and disconnect into $connect, $default and $disconnect', async () => {
    const socket = await openTracked();
    socket.send('not json');
    expect(JSON.parse(await socket.next())).toEqual({ action: 'error', code: 'bad_request' });
    socket.send(JSON.stringify({ action: 'launch' }));
    expect(JSON.parse(await socket.next())).toEqual({ action: 'error', code: 'unknown_action' });
    socket.socket.close();
    expect(await socket.closed).toBe(1005);
    await eventually(async () => !(await connectionIds()).includes(socket.connectionId));
  });

  it('stores a connection record that expires after the longest possible connection', async () => {
    const socket = await openTracked();
    const page = await clients.dynamo.send(new ScanCommand({ TableName: runner.tables.connections }));
    const record = page.Items!.find(
      (item) => item[CONNECTIONS.attributes.connectionId] === socket.connectionId,
    )!;
    const connectedAt = Number(record[CONNECTIONS.attributes.connectedAt]);
    expect(Math.abs(connectedAt - Date.now())).toBeLessThan(60_000);
    expect(record[CONNECTIONS.attributes.expiresAt]).toBe(
      Math.floor((connectedAt + LIMITS.wsMaxLifetimeMs) / 1000) + LIMITS.connectionRecordSlackSeconds,
    );
    socket.socket.close();
    await socket.closed;
  });

  describe('@connections', () => {
    const management = () => clients.management(harness.managementEndpoint);

    it('delivers a POST to the connection and describes it on GET', async () => {
      const socket = await openTracked();
      await management().send(
        new PostToConnectionCommand({
          ConnectionId: socket.connectionId,
          Data: Buffer.from('{"action":"push"}'),
        }),
      );
      expect(await socket.next()).toBe('{"action":"push"}');
      const described = await management().send(
        new GetConnectionCommand({ ConnectionId: socket.connectionId }),
      );
      expect(described.ConnectedAt).toBeInstanceOf(Date);
      expect(described.LastActiveAt).toBeInstanceOf(Date);
      socket.socket.close();
      await socket.closed;
    });

    it('closes the connection on DELETE, which runs $disconnect', async () => {
      const socket = await openTracked();
      await management().send(new DeleteConnectionCommand({ ConnectionId: socket.connectionId }));
      expect(await socket.closed).toBe(CLOSE.normal);
      await eventually(async () => !(await connectionIds()).includes(socket.connectionId));
    });

    it('answers 410 GoneException for unknown and closed connections', async () => {
      await expect(
        management().send(
          new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAAA', Data: Buffer.from('x') }),
        ),
      ).rejects.toBeInstanceOf(GoneException);
      const socket = await openTracked();
      socket.socket.close();
      await socket.closed;
      await expect(
        management().send(
          new PostToConnectionCommand({ ConnectionId: socket.connectionId, Data: Buffer.from('x') }),
        ),
      ).rejects.toBeInstanceOf(GoneException);
    });

    it('refuses a push larger than a WebSocket message', async () => {
      const socket = await openTracked();
      await expect(
        management().send(
          new PostToConnectionCommand({
            ConnectionId: socket.connectionId,
            Data: Buffer.alloc(LIMITS.wsMessageBytes + 1, 0x61),
          }),
        ),
      ).rejects.toMatchObject({ name: 'PayloadTooLargeException' });
      socket.socket.close();
      await socket.closed;
    });
  });

  it('answers echo itself with the exact frame of the MOCK route, invoking no handler', async () => {
    const socket = await openTracked();
    const before = logLines.length;
    // Whatever else an echo frame carries, the reply is the same constant bytes.
    for (const frame of [
      '{"action":"echo"}',
      '{"action":"echo","data":"x","other":[1]}',
      '{"data":5,"action":"echo"}',
    ]) {
      socket.send(frame);
      expect(await socket.next()).toBe(ECHO_FRAME);
    }
    // A frame for $default after them: its reply comes after its log line, so every line the three
    // echoes could have caused is in by now.
    socket.send('{"action":"launch"}');
    expect(JSON.parse(await socket.next())).toEqual({ action: 'error', code: 'unknown_action' });
    const routes = logLines.slice(before).map((line) => (JSON.parse(line) as { route?: string }).route);
    expect(routes).toEqual(['$default']);
    socket.socket.close();
    await socket.closed;
  });

  describe("API Gateway's size limits", () => {
    it('accepts a message of several frames of at most 32 KB', async () => {
      const socket = await openTracked();
      const chunk = 'a'.repeat(LIMITS.wsFrameBytes - 100);
      socket.socket.send('{"action":"launch","data":"', { fin: false });
      for (let i = 0; i < 3; i++) socket.socket.send(chunk, { fin: false });
      socket.socket.send('"}', { fin: true });
      // It reached the handler, which parsed it whole: refused for its action, not by the gateway.
      expect(JSON.parse(await socket.next())).toEqual({ action: 'error', code: 'unknown_action' });
      socket.socket.close();
      await socket.closed;
    });

    it('closes the connection with 1009 on a single frame over 32 KB', async () => {
      const socket = await openTracked();
      socket.send(`{"action":"echo","data":"${'a'.repeat(LIMITS.wsFrameBytes)}"}`);
      expect(await socket.closed).toBe(CLOSE.tooBig);
    });

    it('closes the connection with 1009 on a message over 128 KB, even in small frames', async () => {
      const socket = await openTracked();
      const chunk = 'a'.repeat(LIMITS.wsFrameBytes - 1);
      for (let i = 0; i < 5; i++) socket.socket.send(chunk, { fin: false });
      socket.socket.send('', { fin: true });
      expect(await socket.closed).toBe(CLOSE.tooBig);
    });
  });

  it('logs one allowlisted line per event, with no connection id', async () => {
    await connectionIds();
    expect(logLines.length).toBeGreaterThan(10);
    expect(seenConnectionIds.size).toBeGreaterThan(5);
    for (const line of logLines) {
      expect(
        Object.keys(JSON.parse(line)).every((key) =>
          ['route', 'outcome', 'code', 'status', 'durationMs', 'bytesIn', 'bytesOut', 'count'].includes(key),
        ),
      ).toBe(true);
      for (const id of seenConnectionIds) expect(line).not.toContain(id);
      expect(line).not.toContain('127.0.0.1');
    }
  });
});
