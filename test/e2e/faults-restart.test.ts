/**
 * A crash mid-load: the runner process (local/main.ts, configured from PORT and DATA_DIR as with
 * `npm start`) and its DynamoDB Local are both killed with SIGKILL while a sender has sends in
 * flight, then the runner is started again on the same PORT and DATA_DIR (DynamoDB Local reopens
 * the same data folder).
 *
 * The guarantee, at two levels:
 * - stored: every message the sender was acked (or the SDK resent after reconnecting) is in the
 *   mailbox table exactly once, counted over a scan of the whole table by (sender, message id),
 *   so a copy written under any other key would show;
 * - delivered: the server delivers at least once (a push and a later pull may both carry a
 *   message), so the raw deliveries the SDK receives, counted before its dedupe (Inbound.open),
 *   cover every acked id and nothing else; the app (onMessage, after the dedupe) gets each exactly once.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Inbound } from '../../client/chat/inbound.ts';
import { DirectoryClient } from '../../client/directory/client.ts';
import { localTableName, MAILBOX } from '../../contract/schema.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { freePort } from '../../local/ports.ts';
import type { Runner } from '../../local/runner.ts';
import { b64 } from '../../protocol/chat.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { mailboxItems, newSession, type TestIdentity } from '../support/chat.ts';
import { isAlive, RUNNER_READY, type StartedProcess, startRunnerProcess } from '../support/process.ts';
import { eventually } from '../support/runner.ts';

const MESSAGES = 200;
const IN_FLIGHT = 16;
const KILL_AFTER_ACKS = 80;

const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-crash-'));
const started: StartedProcess[] = [];

/** The runner itself as the process (not npm or a shell around it), so SIGKILL hits only it. */
function startOnDataDir(port: number): StartedProcess {
  const child = startRunnerProcess(port, dataDir);
  started.push(child);
  return child;
}

/** The port of the DynamoDB Local the runner on `dataDir` started (from its recorded pid; Linux). */
function dynamoPort(): number {
  const pid = readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8').trim();
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return Number(args[args.indexOf('-port') + 1]);
}

/** Whether `pid` still runs; a zombie (killed, not yet reaped by its new parent) does not. */
function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

afterAll(() => {
  for (const child of started) child.signal('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('crash and restart', () => {
  it('after SIGKILL of the runner and DynamoDB Local mid-load and a restart on the same data, every acked or resent message is stored once and reaches the app once', {
    timeout: 300_000,
  }, async () => {
    const port = await freePort();
    const first = startOnDataDir(port);
    const [, httpUrl, wsUrl, safeUrl, serverKey] = await first.waitForOutput(RUNNER_READY, 90_000);
    const runner = { httpUrl, wsUrl, safeUrl, serverPublicKey: serverKey } as unknown as Runner;
    const directory = new DirectoryClient({ server: httpUrl! });
    const register = async (): Promise<TestIdentity> => {
      const keys = generateKeyPair();
      return { id: await directory.createIdentity(keys), keys };
    };
    const [alice, bob] = [await register(), await register()];

    // Retries at least once a second while the runner is down, so the test doesn't wait out a long backoff.
    const a = newSession(runner, alice, { reconnect: true, reconnectMaxMs: 1000 });
    await a.session.connect();
    const text = (n: number) => new TextEncoder().encode(`m${n}`);
    // The first send also caches bob's public key, so no directory lookup is needed mid-crash.
    const ids: string[] = [b64((await a.session.send(bob.id, text(0))).id)];

    const javaPid = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));
    expect(running(javaPid)).toBe(true);

    // Keep IN_FLIGHT sends outstanding; kill the runner once KILL_AFTER_ACKS were acked.
    const acked = new Set<string>(ids);
    let unackedAtKill = -1;
    let next = 1;
    const outstanding = new Set<Promise<void>>();
    while (next < MESSAGES) {
      while (outstanding.size < IN_FLIGHT && next < MESSAGES) {
        const n = next++;
        const sent = a.session.send(bob.id, text(n)).then(({ id }) => {
          acked.add(b64(id));
          if (acked.size >= KILL_AFTER_ACKS && unackedAtKill < 0) {
            unackedAtKill = outstanding.size - 1;
            process.kill(first.child.pid!, 'SIGKILL');
          }
        });
        const tracked: Promise<void> = sent.finally(() => outstanding.delete(tracked));
        outstanding.add(tracked);
      }
      if (unackedAtKill >= 0) break;
      await Promise.race(outstanding);
    }
    // DynamoDB Local dies too, without a chance to flush or close anything.
    process.kill(javaPid, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await eventually(() => !running(javaPid), 20_000);
    expect(unackedAtKill).toBeGreaterThan(0);

    // Same port, same data folder: the next start ends the orphan and serves the same mailboxes.
    const second = startOnDataDir(port);
    const [, httpUrl2, , , serverKey2] = await second.waitForOutput(RUNNER_READY, 90_000);
    expect([httpUrl2, serverKey2]).toEqual([httpUrl, serverKey]);

    // Sends issued while the runner was down go out after the SDK reconnects; the ones in flight
    // at the kill are sent again with the same id.
    while (next < MESSAGES) {
      const n = next++;
      outstanding.add(a.session.send(bob.id, text(n)).then(({ id }) => void acked.add(b64(id))));
    }
    await Promise.all(outstanding);
    expect(acked.size).toBe(MESSAGES);
    await a.session.close();

    // Server side, read straight from the DynamoDB Local the second runner started: one copy per
    // message id, and a quota counter that agrees.
    const clients = createClients({
      endpoints: { dynamodb: `http://127.0.0.1:${dynamoPort()}` },
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      // Every message item in the table, whatever its key, counted by (sender, message id).
      const copies = new Map<string, number>();
      let start: Record<string, unknown> | undefined;
      do {
        const page = await clients.dynamo.send(
          new ScanCommand({
            TableName: localTableName('mailbox'),
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          if (item[MAILBOX.attributes.messageId] === undefined) continue; // the owner record
          const ref = `${item[MAILBOX.attributes.recipient]}/${item[MAILBOX.attributes.sender]}/${b64(item[MAILBOX.attributes.messageId] as Uint8Array)}`;
          copies.set(ref, (copies.get(ref) ?? 0) + 1);
        }
        start = page.LastEvaluatedKey;
      } while (start);
      expect([...copies.keys()].sort()).toEqual([...acked].map((id) => `${bob.id}/${alice.id}/${id}`).sort());
      expect([...copies.values()].filter((n) => n !== 1)).toEqual([]);
      // The owner record survived: open, with sampled counters (multiples of the sample size, at
      // most that many per copy: each send frame, resends included, may add one sample).
      const owner = await clients.dynamo.send(
        new GetCommand({
          TableName: localTableName('mailbox'),
          Key: { [MAILBOX.attributes.recipient]: bob.id, [MAILBOX.attributes.key]: '#owner' },
          ConsistentRead: true,
        }),
      );
      expect(owner.Item?.[MAILBOX.attributes.active]).toBe(true);
      expect(Number(owner.Item?.[MAILBOX.attributes.count]) % LIMITS.quotaSampleEvery).toBe(0);

      // Raw deliveries, before the SDK's dedupe: every call of Inbound.open (push or pulled backlog).
      const raw = vi.spyOn(Inbound.prototype, 'open');
      const b = newSession(runner, bob);
      await b.session.connect();
      await eventually(
        async () => (await mailboxItems(clients.dynamo, localTableName('mailbox'), bob)).length === 0,
        30_000,
      );
      await b.session.close();
      const delivered = raw.mock.calls.map(([message]) => `${message.sender}/${message.id}`);
      raw.mockRestore();
      // At least once at the raw level: every acked id, from alice, and nothing else.
      expect(new Set(delivered)).toEqual(new Set([...acked].map((id) => `${alice.id}/${id}`)));
      // Exactly once to the app.
      const seen = b.received.map((message) => message.id);
      expect(seen).toHaveLength(MESSAGES);
      expect(new Set(seen)).toEqual(acked);
    } finally {
      clients.destroy();
    }

    second.signal('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
