/**
 * The operator's day-to-day commands, spawned as real processes against a local runner (its data
 * folder's runner.json), with the SDK as the users who feel them: blocking and unblocking an
 * identity, listing and revoking invites, usage figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatError } from '../../client/chat/session.ts';
import { EXIT } from '../../client/cli/command.ts';
import { DirectoryClient, DirectoryError } from '../../client/directory/client.ts';
import { CONNECTIONS } from '../../contract/schema.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { newSession, RawClient, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { runOpsCli } from '../support/cli.ts';
import { issueTestInvite, sharedServices } from '../support/runner.ts';

let dataDir: string;
let runner: Runner;
const ops = (args: string[]) => runOpsCli([...args, '--data-dir', dataDir]);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'switchyard-ops-'));
  runner = await startRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    codeSink: () => {},
    ...sharedServices(),
  });
});

afterAll(async () => {
  await runner?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** How many connection records carry this identity (logged-in sessions). */
async function sessionsOf(who: TestIdentity): Promise<number> {
  const clients = createClients({
    endpoints: runner.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const scan = await clients.dynamo.send(
      new ScanCommand({ TableName: runner.tables.connections, ConsistentRead: true }),
    );
    return (scan.Items ?? []).filter((item) => item[CONNECTIONS.attributes.identity] === who.id).length;
  } finally {
    clients.destroy();
  }
}

/** What the owner gets when it tries to log in to the chat switch. */
async function login(who: TestIdentity): Promise<string> {
  const { session } = newSession(runner, who);
  try {
    await session.connect();
    return 'ok';
  } catch (error) {
    return error instanceof ChatError ? error.code : String(error);
  } finally {
    await session.close();
  }
}

/** The directory's answer to one of the owner's own requests. */
async function ownerExport(who: TestIdentity): Promise<string> {
  const owner = new DirectoryClient({ server: runner.httpUrl }).owner(
    who.id as IdentityId,
    who.keys.secretKey,
  );
  try {
    await owner.export();
    return 'ok';
  } catch (error) {
    return error instanceof DirectoryError ? error.code : String(error);
  }
}

describe('switchyard-ops identities block and unblock', () => {
  let mallory: TestIdentity;
  let alice: TestIdentity;
  const directory = () => new DirectoryClient({ server: runner.httpUrl });

  beforeAll(async () => {
    [mallory, alice] = [await registerIdentity(runner), await registerIdentity(runner)];
  });

  it('blocks: the owner gets only refusals a revoked identity gets, others see it as unknown', async () => {
    const live = newSession(runner, mallory);
    await live.session.connect();
    expect(await sessionsOf(mallory)).toBe(1);

    const run = await ops(['identities', 'block', mallory.id.toLowerCase()]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe('blocked\n');
    expect(`${run.stdout}${run.stderr}`).not.toContain(mallory.id);

    // Its live session is cut off: the connection's record is gone, so the switch refuses its
    // frames as not logged in and pushes nothing to it.
    expect(await sessionsOf(mallory)).toBe(0);
    await live.session.close();

    expect(await login(mallory)).toBe('login_failed');
    expect(await ownerExport(mallory)).toBe('not_found');
    expect(await directory().lookup(mallory.id)).toBeUndefined();
    // A sender learns what it learns of any unknown recipient: the SDK finds no key to box for,
    // and a client that kept the key is refused by the switch (its mailbox is closed).
    const sender = newSession(runner, alice);
    await sender.session.connect();
    await expect(sender.session.send(mallory.id, new TextEncoder().encode('hello'))).rejects.toThrow();
    await sender.session.close();
    const raw = await RawClient.open(runner);
    expect((await raw.login(alice)).action).toBe('loginAck');
    raw.sendSession('send', RawClient.sendPayload(alice, [mallory], 'hello'));
    expect(await raw.nextSession()).toMatchObject({
      action: 'sendError',
      payload: { code: 'unknown_recipient' },
    });
    raw.socket.socket.close();
  });

  it('refuses to block twice, or to unblock an identity that is not blocked (exit 13)', async () => {
    expect((await ops(['identities', 'block', mallory.id])).code).toBe(EXIT.notFound);
    expect((await ops(['identities', 'unblock', alice.id])).code).toBe(EXIT.notFound);
    expect((await ops(['identities', 'block', 'NOTANID1'])).code).toBe(EXIT.notFound);
  });

  it('unblocks: the identity is active again with its key, as before', async () => {
    const run = await ops(['identities', 'unblock', mallory.id]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe('unblocked\n');
    expect((await directory().lookup(mallory.id))?.publicKey).toEqual(mallory.keys.publicKey);
    expect(await login(mallory)).toBe('ok');
    expect(await ownerExport(mallory)).toBe('ok');
  });
});

describe('switchyard-ops invite list and revoke', () => {
  it('lists unused invites without their tokens, and revokes one by token, by id, or all', async () => {
    const tokens = [
      await issueTestInvite(runner),
      await issueTestInvite(runner),
      await issueTestInvite(runner),
    ];
    const listed = await ops(['invite', 'list', '--json']);
    expect(listed.code).toBe(EXIT.ok);
    const invites = JSON.parse(listed.stdout) as { id: string; expiresAt: string }[];
    expect(invites).toHaveLength(3);
    for (const token of tokens) expect(listed.stdout).not.toContain(token);

    expect((await ops(['invite', 'revoke', tokens[0]!])).stdout).toBe('revoked 1 invite\n');
    const remaining = JSON.parse((await ops(['invite', 'list', '--json'])).stdout) as { id: string }[];
    expect(remaining).toHaveLength(2);
    expect((await ops(['invite', 'revoke', '--id', remaining[0]!.id])).stdout).toBe('revoked 1 invite\n');
    expect((await ops(['invite', 'revoke', tokens[0]!])).code).toBe(EXIT.notFound);
    expect((await ops(['invite', 'revoke', '--all'])).stdout).toBe('revoked 1 invite\n');
    expect(JSON.parse((await ops(['invite', 'list', '--json'])).stdout)).toEqual([]);
  });
});

describe('switchyard-ops usage', () => {
  it('counts registrations and logins by day, identities by state and waiting messages: no identifier', async () => {
    const [a, b] = [await registerIdentity(runner), await registerIdentity(runner)];
    const sender = newSession(runner, a);
    await sender.session.connect();
    await sender.session.send(b.id, new TextEncoder().encode('waiting'));
    await sender.session.close();

    const run = await ops(['usage', '--days', '3', '--json']);
    expect(run.code).toBe(EXIT.ok);
    const figures = JSON.parse(run.stdout) as {
      days: { day: string; registered: number; lastLogin: number }[];
      identities: Record<string, number>;
      waiting: { messages: number; mailboxes: number };
    };
    const today = new Date().toISOString().slice(0, 10);
    expect(figures.days.map((d) => d.day).at(-1)).toBe(today);
    expect(figures.days).toHaveLength(3);
    // The two of the block tests and these two registered today; a and mallory logged in.
    expect(figures.days.at(-1)).toMatchObject({ registered: 4 });
    expect(figures.days.at(-1)!.lastLogin).toBeGreaterThanOrEqual(2);
    expect(figures.identities).toEqual({ active: 4, blocked: 0, revoked: 0 });
    expect(figures.waiting.messages).toBeGreaterThanOrEqual(1);

    const text = await ops(['usage']);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toMatch(/^day {9}registered {2}last login\n/);
    expect(text.stdout).toMatch(/identities: 4 active · 0 blocked · 0 revoked or deleted/);
    for (const who of [a, b]) expect(text.stdout).not.toContain(who.id);
  });
});
