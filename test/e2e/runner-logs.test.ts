/**
 * The no-identifier rule checked where it matters: the real output of a runner process started as
 * `npm start` starts it (local/main.ts with PORT and DATA_DIR), not the in-process log sink the
 * other tests collect. Traffic goes through the SDK: identities registered, looked up, one lookup
 * of an unknown identity and one revocation with a wrong password (both refused), a chat exchange,
 * Safe PUT/GET/HEAD. Then stdout and stderr together are scanned for every identifier used.
 *
 * The one exception: the ready line names the runner's own URL (127.0.0.1 and the port), printed
 * once at start-up for the operator, before any client exists. It carries no client's address or
 * identifier, so it is checked for those but not for `127.0.0.1`; every other line must not
 * contain it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryClient } from '../../client/directory/client.ts';
import { CONNECTIONS, localTableName } from '../../contract/schema.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { freePort } from '../../local/ports.ts';
import type { Runner } from '../../local/runner.ts';
import { toHex } from '../../protocol/bytes.ts';
import { b64 } from '../../protocol/chat.ts';
import { generateKeyPair, randomBytes } from '../../protocol/crypto.ts';
import { newSession, type TestIdentity } from '../support/chat.ts';
import { RUNNER_READY, type StartedProcess, startRunnerProcess } from '../support/process.ts';
import { eventually } from '../support/runner.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-logs-'));
let child: StartedProcess | undefined;

afterAll(() => {
  child?.signal('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('runner process output', () => {
  it('names no identity, key, message id, backup id, connection id or client IP on stdout or stderr', {
    timeout: 240_000,
  }, async () => {
    const port = await freePort();
    child = startRunnerProcess(port, dataDir);
    const [, httpUrl, wsUrl, safeUrl, serverKey] = await child.waitForOutput(RUNNER_READY, 90_000);
    const runner = { httpUrl, wsUrl, safeUrl, serverPublicKey: serverKey } as unknown as Runner;
    const directory = new DirectoryClient({ server: httpUrl! });
    const register = async (): Promise<TestIdentity> => {
      const keys = generateKeyPair();
      return { id: await directory.createIdentity(keys), keys };
    };
    const [alice, bob] = [await register(), await register()];
    const secrets: string[] = [];

    // Directory: lookups, an unknown identity, a refused revocation.
    expect((await directory.lookup(bob.id))?.publicKey).toEqual(bob.keys.publicKey);
    const unknown = 'ZZZZ9999';
    expect(await directory.lookup(unknown)).toBeUndefined();
    await expect(directory.revoke(alice.id, 'not the password')).rejects.toThrow();
    secrets.push(unknown);

    // Chat: both online, a message each way; the connection ids read from the table while live.
    const a = newSession(runner, alice);
    const b = newSession(runner, bob);
    await a.session.connect();
    await b.session.connect();
    const sent = [
      await a.session.send(bob.id, new TextEncoder().encode('hi bob')),
      await b.session.send(alice.id, new TextEncoder().encode('hi alice')),
    ];
    await eventually(() => a.received.length === 1 && b.received.length === 1);
    const dynamoPid = readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8').trim();
    const dynamoArgs = readFileSync(`/proc/${dynamoPid}/cmdline`, 'utf8').split('\0');
    const clients = createClients({
      endpoints: { dynamodb: `http://127.0.0.1:${dynamoArgs[dynamoArgs.indexOf('-port') + 1]}` },
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const connectionIds = await clients.dynamo
      .send(new ScanCommand({ TableName: localTableName('connections'), ConsistentRead: true }))
      .then(({ Items }) => (Items ?? []).map((item) => String(item[CONNECTIONS.attributes.connectionId])))
      .finally(() => clients.destroy());
    expect(connectionIds).toHaveLength(2);
    await a.session.close();
    await b.session.close();

    // Safe: store, read back, check, and one GET of a backup that does not exist.
    const backupId = toHex(randomBytes(32));
    const missingId = toHex(randomBytes(32));
    const backup = randomBytes(1000);
    const put = await fetch(`${safeUrl}backups/${backupId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from(backup),
    });
    expect(put.status).toBe(200);
    const got = await fetch(`${safeUrl}backups/${backupId}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(backup))).toBe(true);
    expect((await fetch(`${safeUrl}backups/${backupId}`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${safeUrl}backups/${missingId}`)).status).toBe(404);

    // Every request above has been logged (the last is the 404) once its line is out.
    await child.waitForOutput(/"route":"ANY \/safe\/backups\/\{id\}"[^\n]*"status":404/);
    child.signal('SIGINT');
    expect([0, 'SIGINT']).toContain(await child.exited);

    const needles = [
      ...[alice, bob].flatMap((who) => [who.id, toHex(who.keys.publicKey), b64(who.keys.publicKey)]),
      ...sent.map((result) => b64(result.id)),
      ...[...a.received, ...b.received].map((message) => message.id),
      ...connectionIds,
      backupId,
      missingId,
      ...secrets,
    ];
    const lines = child.output().split('\n');
    // The handler lines are there: the scan reads real traffic, not an empty output.
    const routes = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).route);
    expect(routes).toEqual(
      expect.arrayContaining([
        'ANY /directory/{proxy+}',
        '$connect',
        'login',
        'send',
        'ack',
        '$disconnect',
        'ANY /safe/backups/{id}',
      ]),
    );
    const leaks = lines.flatMap((line) => [
      ...needles.filter((needle) => line.includes(needle)).map((needle) => `${needle} in ${line}`),
      ...(line.includes('127.0.0.1') && !RUNNER_READY.test(line) ? [`an IP in ${line}`] : []),
    ]);
    expect(leaks).toEqual([]);
  });
});
