/**
 * The server key rotation drill of docs/OPERATIONS.md, on the local runner: the operator makes the
 * next key with `switchyard-ops server-key --new-secret-file`, clients pin the current and the next
 * key, the operator swaps the key and restarts, and nothing is lost on the way.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChatError } from '../../client/chat/session.ts';
import { EXIT } from '../../client/cli/command.ts';
import { saveIdentityFile } from '../../client/keyfile.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import { SERVER_KEY_FILE } from '../../local/server-key.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { newSession, registerIdentity } from '../support/chat.ts';
import { runOpsCli } from '../support/cli.ts';
import { startProcess } from '../support/process.ts';
import { eventually, sharedServices } from '../support/runner.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-rotation-'));
const dataDir = join(dir, 'data');
let runner: Runner | undefined;
// The restarted runner finds its tables again on the shared DynamoDB Local, as on AWS.
const services = sharedServices();

const start = async () => {
  runner = await startRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    logSink: () => {},
    codeSink: () => {},
    ...services,
  });
  return runner;
};

afterAll(async () => {
  await runner?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cliSend(r: Runner, args: string[], serverKey: string) {
  return startProcess(process.execPath, ['dist/switchyard.js', 'send', ...args], {
    ...process.env,
    SWITCHYARD_SERVER: r.httpUrl,
    SWITCHYARD_SERVER_KEY: serverKey,
  });
}

describe('server key rotation', () => {
  it('keeps clients that pin the current and the next key working across the swap', {
    timeout: 120_000,
  }, async () => {
    const before = await start();
    const current = fromHex(before.serverPublicKey)!;
    const [alice, bob] = [await registerIdentity(before), await registerIdentity(before)];

    // Step 1: the operator makes the next key; only its public key is printed. Clients learn it and
    // pin both; the current server still answers.
    const nextSecretFile = join(dir, 'next-server-key');
    const made = await runOpsCli(['server-key', '--new-secret-file', nextSecretFile]);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(EXIT.ok);
    expect(made.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const nextPublicKey = fromHex(made.stdout.trim())!;
    const a = newSession(before, alice, { pinned: [current, nextPublicKey] });
    await a.session.connect();
    await a.session.send(bob.id, new TextEncoder().encode('queued before the rotation'));
    a.session.close();

    // Step 2: the operator puts the new key in place and restarts (on AWS: put-secret-value, then
    // a deploy with the next serverKeyGeneration).
    await before.stop();
    runner = undefined;
    writeFileSync(
      join(dataDir, SERVER_KEY_FILE),
      `${JSON.stringify({ secretKey: readFileSync(nextSecretFile, 'utf8').trim() })}\n`,
      {
        mode: 0o600,
      },
    );
    const after = await start();
    expect(after.serverPublicKey).toBe(toHex(nextPublicKey));
    const printed = await runOpsCli(['server-key', '--data-dir', dataDir]);
    expect(printed.code).toBe(EXIT.ok);
    expect(printed.stdout).toBe(made.stdout);

    // Clients that pinned both keys go on; the queue survived the swap.
    const b = newSession(after, bob, { pinned: [current, nextPublicKey] });
    await b.session.connect();
    await eventually(() => b.received.length === 1);
    expect(b.received[0]).toMatchObject({ sender: alice.id, text: 'queued before the rotation' });

    // A client that still pins only the old key refuses the new server: it must be updated.
    const stale = newSession(after, alice, { pinned: [current] });
    const refused = await stale.session.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ChatError);
    expect((refused as ChatError).code).toBe('server_key_mismatch');
    stale.session.close();

    // Step 3: once every client has the new key, the old one is dropped from the pins.
    const updated = newSession(after, alice, { pinned: [nextPublicKey] });
    await updated.session.connect();
    await updated.session.send(bob.id, new TextEncoder().encode('after the rotation'));
    await eventually(() => b.received.length === 2);
    expect(b.received[1]?.text).toBe('after the rotation');
    updated.session.close();
    b.session.close();

    // The CLI takes the two keys comma-separated, and refuses anything else as a usage error.
    const file = join(dir, 'alice.json');
    await saveIdentityFile(file, { identity: alice.id as never, keys: alice.keys });
    const both = `${toHex(current)},${toHex(nextPublicKey)}`;
    const sent = cliSend(after, [bob.id, 'from the CLI', '--identity-file', file], both);
    expect(await sent.exited).toBe(EXIT.ok);
    const oldOnly = cliSend(after, [bob.id, 'x', '--identity-file', file], toHex(current));
    expect(await oldOnly.exited).toBe(EXIT.serverKeyMismatch);
    const three = cliSend(after, [bob.id, 'x', '--identity-file', file], `${both},${toHex(current)}`);
    expect(await three.exited).toBe(EXIT.usage);
    expect(three.output()).toContain('separated by a comma');
  });
});
