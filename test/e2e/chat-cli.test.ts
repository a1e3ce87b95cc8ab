/** `switchyard send` and `switchyard listen` as real processes against the runner. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxTextBytes } from '../../client/chat/content.ts';
import { EXIT } from '../../client/cli/command.ts';
import { saveIdentityFile } from '../../client/keyfile.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import { mailboxItems as mailboxOf, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { startProcess } from '../support/process.ts';
import { sharedServices } from '../support/runner.ts';

let runner: Runner;
let dir: string;
const logLines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-chat-cli-'));
  runner = await startRunner({
    dataDir: join(dir, 'data'),
    port: 0,
    sweepIntervalMs: 0,
    logSink: (l) => logLines.push(l),
    codeSink: () => {},
    ...sharedServices(),
  });
});

afterAll(async () => {
  await runner?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What waits in `who`'s mailbox, read straight from the runner's table. */
async function mailboxItems(target: Runner, who: TestIdentity) {
  const aws = createClients({
    endpoints: target.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    return await mailboxOf(aws.dynamo, target.tables.mailbox, who);
  } finally {
    aws.destroy();
  }
}

async function identityFile(who: TestIdentity, name: string): Promise<string> {
  const path = join(dir, `${name}.json`);
  await saveIdentityFile(path, { identity: who.id as never, keys: who.keys });
  return path;
}

function cli(args: string[], env: Record<string, string> = {}) {
  return startProcess(process.execPath, ['dist/switchyard.js', ...args], {
    ...process.env,
    SWITCHYARD_SERVER: runner.httpUrl,
    SWITCHYARD_SERVER_KEY: runner.serverPublicKey,
    ...env,
  });
}

describe('switchyard send / listen', () => {
  it('sends a text that listen prints and acknowledges', { timeout: 120_000 }, async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    const aliceFile = await identityFile(alice, 'alice');
    const bobFile = await identityFile(bob, 'bob');

    const send = cli(['send', bob.id, 'hello from the CLI', '--identity-file', aliceFile]);
    expect(await send.exited).toBe(EXIT.ok);
    expect(send.output()).toContain('sent');

    const listen = cli(['listen', '--count', '1', '--json', '--identity-file', bobFile]);
    expect(await listen.exited).toBe(EXIT.ok);
    const line = JSON.parse(listen.output().trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ sender: alice.id, text: 'hello from the CLI' });

    // Acknowledged: a second listen finds nothing waiting and times out quietly via --count.
    const again = cli(['listen', '--count', '1', '--identity-file', bobFile]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(again.output()).not.toContain('hello from the CLI');
    again.signal('SIGINT');
    await again.exited;
  });

  it('refuses a wrong pinned server key with its own exit code', async () => {
    const alice = await registerIdentity(runner);
    const file = await identityFile(alice, 'alice-wrong-key');
    const send = cli(['send', alice.id, 'x', '--identity-file', file], {
      SWITCHYARD_SERVER_KEY: '11'.repeat(32),
    });
    expect(await send.exited).toBe(EXIT.serverKeyMismatch);
    expect(send.output()).toContain('pinned server key');
  });

  it('says when the recipient is unknown', async () => {
    const alice = await registerIdentity(runner);
    const file = await identityFile(alice, 'alice-unknown');
    const send = cli(['send', 'ZZZZZZZZ', 'x', '--identity-file', file]);
    expect(await send.exited).toBe(EXIT.notFound);
    expect(send.output()).toContain('unknown');
  });

  it('refuses a text longer than one frame with exit code 6, sending nothing; the longest that fits arrives', {
    timeout: 90_000,
  }, async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    const aliceFile = await identityFile(alice, 'alice-long');
    const bobFile = await identityFile(bob, 'bob-long');
    const max = maxTextBytes();
    expect(max).toBe(18_022);

    // Far over the frame: it used to go out, be closed with 1009, and be re-sent forever.
    for (const text of ['x'.repeat(20_000), 'x'.repeat(max + 1)]) {
      const send = cli(['send', bob.id, text, '--identity-file', aliceFile]);
      const outcome = await Promise.race([
        send.exited,
        new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000)),
      ]);
      if (outcome === 'still running') send.signal('SIGKILL');
      expect(outcome, `${text.length} bytes`).toBe(EXIT.tooLarge);
      expect(send.output()).toContain(`at most ${max} bytes`);
      expect(send.output()).not.toContain(bob.id);
    }

    // Exactly the limit, in two-byte characters: it fits whatever the random padding.
    const longest = 'é'.repeat(max / 2);
    const send = cli(['send', bob.id, longest, '--identity-file', aliceFile]);
    expect(await send.exited).toBe(EXIT.ok);
    const listen = cli(['listen', '--count', '1', '--json', '--identity-file', bobFile]);
    expect(await listen.exited).toBe(EXIT.ok);
    const lines = listen.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ sender: alice.id, text: longest });
  });

  it('leaves the messages waiting for the sender alone: send takes no delivery, listen shows them', {
    timeout: 90_000,
  }, async () => {
    const [alice, bob] = [await registerIdentity(runner), await registerIdentity(runner)];
    const aliceFile = await identityFile(alice, 'alice-backlog');
    const bobFile = await identityFile(bob, 'bob-backlog');
    // Bob writes to Alice while she is offline.
    for (const text of ['first while you were away', 'second while you were away']) {
      const bobSends = cli(['send', alice.id, text, '--identity-file', bobFile]);
      expect(await bobSends.exited).toBe(EXIT.ok);
    }
    // Alice only sends: her backlog must still be on the server afterwards.
    const aliceSends = cli(['send', bob.id, 'hi Bob', '--identity-file', aliceFile]);
    expect(await aliceSends.exited).toBe(EXIT.ok);
    expect(await mailboxItems(runner, alice)).toHaveLength(2);

    // listen --count 1 takes one; the one past the count is not acked and waits for the next.
    const texts: string[] = [];
    for (let round = 0; round < 2; round++) {
      const listen = cli(['listen', '--count', '1', '--json', '--identity-file', aliceFile]);
      expect(await listen.exited).toBe(EXIT.ok);
      const lines = listen.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      texts.push(JSON.parse(lines[0]!).text);
    }
    expect(texts).toEqual(['first while you were away', 'second while you were away']);
    expect(await mailboxItems(runner, alice)).toEqual([]);
  });
});
