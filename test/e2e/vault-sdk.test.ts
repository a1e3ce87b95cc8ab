/**
 * The backup key vault through the local runner and the client SDK, on DynamoDB Local: store and
 * open, the attempt limit (also when attempts arrive at once), replayed finishes, the griefing gate,
 * unknown vaults, and the metadata check: no identifier, address, code or password in any log line.
 */
import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryClient } from '../../client/directory/client.ts';
import { VaultClient, VaultError } from '../../client/vault/client.ts';
import { VAULT } from '../../contract/schema.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair, type KeyPair, randomBytes } from '../../protocol/crypto.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { vaultSigned } from '../../protocol/vault.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';
import { b64, freshFetch, hex, vaultPost, vaultProof, vaultRecord } from '../support/vault.ts';

let test: TestRunner;
let directory: DirectoryClient;
let vault: VaultClient;
const codeLines: string[] = [];
/** Everything identifying this suite sends, for the metadata check at the end. */
const secrets = new Set<string>();

const EMAIL = 'vault.owner@example.org';
const PASSWORD = '4711';

interface Owner {
  readonly identity: string;
  readonly keys: KeyPair;
}

const lastCode = () => /: ([0-9]{6})$/.exec(codeLines.at(-1) ?? '')?.[1];

/** A new identity with EMAIL linked (the code read from the runner's console). */
async function owner(): Promise<Owner> {
  const keys = generateKeyPair();
  const identity = await directory.createIdentity(keys);
  const own = directory.owner(identity, keys.secretKey);
  await own.link('email', EMAIL);
  await own.confirm('email', lastCode()!);
  secrets.add(identity);
  secrets.add(toHex(keys.publicKey));
  return { identity, keys };
}

/** A code for one attempt, as the owner gets it: requested, then read from the console. */
async function code(identity: string): Promise<{ request: Uint8Array; code: string }> {
  const before = codeLines.length;
  const request = await vault.requestCode(identity, 'email', EMAIL);
  expect(codeLines.length).toBe(before + 1);
  return { request, code: lastCode()! };
}

const record = (identity: string) => vaultRecord(test, identity);

const post = (path: string, body: unknown) => vaultPost(test.runner.httpUrl, path, body);
const proof = (identity: string, secretKey: Uint8Array, signed: Readonly<Record<string, unknown>>) =>
  vaultProof(test.runner.httpUrl, identity, secretKey, signed);

/** The OPRF evaluation in a registration response or a KE2: its first 32 bytes (RFC 9807). */
const evaluated = (hexBytes: string) => hexBytes.slice(0, 64);

/** An attempt split in its two halves, so tests can run many starts before any finish. */
async function start(identity: string, password: string, gate: { request: Uint8Array; code: string }) {
  const client = opaque.client.startLogin({ password });
  const started = await post(`identities/${identity}/start`, {
    ke1: hex(client.startLoginRequest),
    request: toHex(gate.request),
    code: gate.code,
  });
  return { client, started, password };
}

async function finish(identity: string, attempt: Awaited<ReturnType<typeof start>>) {
  const done = opaque.client.finishLogin({
    clientLoginState: attempt.client.clientLoginState,
    loginResponse: b64(attempt.started.json.ke2!),
    password: attempt.password,
  });
  if (!done) return { status: 0, body: undefined };
  const body = { login: attempt.started.json.login, ke3: hex(done.finishLoginRequest) };
  return { ...(await post(`identities/${identity}/finish`, body)), body };
}

beforeAll(async () => {
  await opaque.ready;
  test = await startTestRunner({ codeSink: (line) => codeLines.push(line) });
  directory = new DirectoryClient({ server: test.runner.httpUrl, fetch: freshFetch });
  vault = new VaultClient({ server: test.runner.httpUrl, fetch: freshFetch });
  secrets.add(EMAIL);
  secrets.add(PASSWORD);
});

afterAll(async () => {
  await test?.stop();
});

describe('vault', () => {
  it('stores a key under a password and gives it back after a code, tries restored', async () => {
    const { identity, keys } = await owner();
    const key = randomBytes(32);
    await vault.store(identity, keys.secretKey, PASSWORD, key, 3);
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(3);

    await expect(vault.open(identity, 'wrong', await code(identity))).rejects.toMatchObject({
      code: 'vault_login_failed',
    });
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(2);

    expect(await vault.open(identity, PASSWORD, await code(identity))).toEqual(key);
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(3);
    // The owner may also open with the identity's key instead of a code.
    expect(await vault.open(identity, PASSWORD, { secretKey: keys.secretKey })).toEqual(key);
    secrets.add(toHex(key));
  });

  it('deletes the vault for good after as many wrong passwords as it allows', async () => {
    const { identity, keys } = await owner();
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 2);
    for (let i = 0; i < 2; i++)
      await expect(vault.open(identity, `wrong${i}`, await code(identity))).rejects.toBeInstanceOf(
        VaultError,
      );
    expect(await record(identity)).toBeUndefined();
    // No vault: a code request answers as before, but no code is sent, and the owner's own start
    // gets a decoy whose finish fails like a wrong password.
    const before = codeLines.length;
    const handle = await vault.requestCode(identity, 'email', EMAIL);
    expect(handle).toHaveLength(16);
    expect(codeLines.length).toBe(before);
    await expect(vault.open(identity, PASSWORD, { secretKey: keys.secretKey })).rejects.toMatchObject({
      code: 'vault_login_failed',
    });
  });

  it('answers no more attempts than tries when they arrive at once, and right ones restore', async () => {
    const { identity, keys } = await owner();
    const key = randomBytes(32);
    const tries = 3;
    await vault.store(identity, keys.secretKey, PASSWORD, key, tries);
    const gates = [];
    for (let i = 0; i < 7; i++) gates.push(await code(identity));
    // All starts before any finish: each spends a try or, past the last, gets a decoy.
    const attempts = await Promise.all(gates.map((gate) => start(identity, PASSWORD, gate)));
    expect(attempts.every((a) => a.started.status === 200)).toBe(true);
    const finished = await Promise.all(attempts.map((attempt) => finish(identity, attempt)));
    expect(finished.filter((f) => f.status === 200)).toHaveLength(tries);
    // The right finishes brought the vault back with all its tries.
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(tries);
  });

  it('never lets more wrong passwords through than tries, all at once, and then the vault is gone', async () => {
    const { identity, keys } = await owner();
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 4);
    const gates = [];
    for (let i = 0; i < 8; i++) gates.push(await code(identity));
    const attempts = await Promise.all(gates.map((gate, i) => start(identity, `guess${i}`, gate)));
    expect(attempts.every((a) => a.started.status === 200)).toBe(true);
    expect(await record(identity)).toBeUndefined();
    // Only the four that spent a try were answered from the record: the rest got decoys, and no
    // guess was right, so nothing comes back.
    const finished = await Promise.all(attempts.map((attempt) => finish(identity, attempt)));
    expect(finished.every((f) => f.status !== 200)).toBe(true);
  });

  it('accepts a finish once: a replay neither releases the key nor restores tries', async () => {
    const { identity, keys } = await owner();
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 3);
    const right = await start(identity, PASSWORD, await code(identity));
    const done = await finish(identity, right);
    expect(done.status).toBe(200);
    await expect(vault.open(identity, 'wrong', await code(identity))).rejects.toBeInstanceOf(VaultError);
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(2);
    const replay = await post(`identities/${identity}/finish`, done.body);
    expect({ status: replay.status, json: replay.json }).toEqual({
      status: 403,
      json: { error: 'vault_login_failed', message: 'Vault login failed' },
    });
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(2);
  });

  it('lets nobody who knows only the ID spend a try: a code is needed, and codes go to the address', async () => {
    const { identity, keys } = await owner();
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 3);
    const stranger = opaque.client.startLogin({ password: 'guess' });
    const ke1 = hex(stranger.startLoginRequest);
    // A made-up code under a made-up request handle, and a wrong code under a real one.
    const madeUp = await post(`identities/${identity}/start`, {
      ke1,
      request: toHex(randomBytes(16)),
      code: '123456',
    });
    expect(madeUp.status).toBe(400);
    expect(madeUp.json.error).toBe('code_invalid');
    const before = codeLines.length;
    const handle = await vault.requestCode(identity, 'email', 'someone.else@example.org');
    expect(codeLines.length).toBe(before); // not the linked address: no code sent
    const guessed = await post(`identities/${identity}/start`, {
      ke1,
      request: toHex(handle),
      code: '000000',
    });
    expect(guessed.json.error).toBe('code_invalid');
    // A code is good for its tries of guesses at most, then never again, even with the right code.
    const real = await code(identity);
    const wrongCode = real.code === '111111' ? '222222' : '111111';
    for (let i = 0; i < LIMITS.verificationCodeTries; i++)
      expect(
        (await post(`identities/${identity}/start`, { ke1, request: toHex(real.request), code: wrongCode }))
          .json.error,
      ).toBe('code_invalid');
    const late = await post(`identities/${identity}/start`, {
      ke1,
      request: toHex(real.request),
      code: real.code,
    });
    expect(late.json.error).toBe('code_invalid');
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(3);
    // Proof of possession with someone else's key does not unlock an attempt either.
    await expect(
      vault.open(identity, 'guess', { secretKey: generateKeyPair().secretKey }),
    ).rejects.toMatchObject({
      code: 'proof_invalid',
    });
    expect(Number((await record(identity))?.[VAULT.attributes.tries])).toBe(3);
  });

  it('refuses to store without a linked address, and deletes only with the key', async () => {
    const keys = generateKeyPair();
    const identity = await directory.createIdentity(keys);
    secrets.add(identity);
    await expect(vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 3)).rejects.toMatchObject({
      code: 'address_required',
    });
    const linked = await owner();
    await vault.store(linked.identity, linked.keys.secretKey, PASSWORD, randomBytes(32), 3);
    await expect(vault.delete(linked.identity, keys.secretKey)).rejects.toMatchObject({
      code: 'proof_invalid',
    });
    expect(await record(linked.identity)).toBeDefined();
    await vault.delete(linked.identity, linked.keys.secretKey);
    const left = await test.clients.dynamo.send(new ScanCommand({ TableName: test.runner.tables.vault }));
    expect((left.Items ?? []).filter((item) => item[VAULT.attributes.identity] === linked.identity)).toEqual(
      [],
    );
  });

  it('fails closed when a try was spent and no answer left (a crash after the decrement)', async () => {
    const { identity, keys } = await owner();
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 1);
    // What a crash right after the last decrement leaves: the record at zero tries.
    const A = VAULT.attributes;
    await test.clients.dynamo.send(
      new DeleteCommand({
        TableName: test.runner.tables.vault,
        Key: { [A.identity]: identity, [A.item]: 'nothing' },
      }),
    );
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await test.clients.dynamo.send(
      new UpdateCommand({
        TableName: test.runner.tables.vault,
        Key: { [A.identity]: identity, [A.item]: 'record' },
        UpdateExpression: 'SET #t = :zero',
        ExpressionAttributeNames: { '#t': A.tries },
        ExpressionAttributeValues: { ':zero': 0 },
      }),
    );
    await expect(vault.open(identity, PASSWORD, { secretKey: keys.secretKey })).rejects.toMatchObject({
      code: 'vault_login_failed',
    });
    expect(await record(identity)).toBeUndefined();
  });

  it("evaluates a stored vault's OPRF key only in an attempt: not at register, not for a decoy", async () => {
    const { identity, keys } = await owner();
    // A blinded password guess, sent as a login's KE1 and (its first 32 bytes) as a registration request.
    const ke1 = hex(opaque.client.startLogin({ password: 'guess' }).startLoginRequest);
    const blinded = ke1.slice(0, 64);
    const open = async () => {
      const started = await post(`identities/${identity}/start`, {
        ke1,
        ...(await proof(identity, keys.secretKey, vaultSigned.open(identity, ke1))),
      });
      expect(started.status).toBe(200);
      return evaluated(started.json.ke2!);
    };
    const register = async () => {
      const registered = await post(`identities/${identity}/register`, {
        request: blinded,
        ...(await proof(identity, keys.secretKey, vaultSigned.register(identity, blinded))),
      });
      expect(registered.status).toBe(200);
      expect(registered.json.credential).toMatch(/^[0-9a-f]{32}$/);
      return evaluated(registered.json.response!);
    };
    // No vault yet: the decoy evaluates under a key of its own, the same each time (as a vault would).
    const decoy = await open();
    expect(await open()).toBe(decoy);
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 5);
    const stored = await open();
    expect(await open()).toBe(stored);
    // Collected before the vault existed, or through register since: never the vault's evaluation.
    expect(stored).not.toBe(decoy);
    const viaRegister = [await register(), await register()];
    expect(viaRegister).not.toContain(stored);
    expect(viaRegister[0]).not.toBe(viaRegister[1]);
    // Replacing the vault draws a new credential: evaluations under the old one are worth nothing.
    await vault.store(identity, keys.secretKey, PASSWORD, randomBytes(32), 5);
    expect(await open()).not.toBe(stored);
  });
});

describe('switchyard vault (CLI)', () => {
  it('stores a key, opens it with the identity file, refuses a wrong password with exit 3, deletes', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runCli } = await import('../support/cli.ts');
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-vault-cli-'));
    const common = ['--server', test.runner.httpUrl, '--identity-file', join(dir, 'id.json')];
    try {
      expect((await runCli(['id', 'create', '--no-passphrase', ...common])).code).toBe(0);
      expect((await runCli(['link', 'email', EMAIL, ...common])).code).toBe(0);
      expect((await runCli(['link', 'confirm', 'email', lastCode()!, ...common])).code).toBe(0);
      const stored = await runCli(['vault', 'store', '--tries', '2', '--password-stdin', ...common], {
        stdin: `${PASSWORD}\n`,
      });
      expect(stored.code).toBe(0);
      const key = stored.stdout.trim();
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      const opened = await runCli(['vault', 'open', '--password-stdin', ...common], {
        stdin: `${PASSWORD}\n`,
      });
      expect(opened).toMatchObject({ code: 0, stdout: `${key}\n` });
      const wrong = await runCli(['vault', 'open', '--password-stdin', ...common], { stdin: 'nope\n' });
      expect(wrong.code).toBe(3);
      expect(wrong.stdout).toBe('');
      expect((await runCli(['vault', 'delete', '--yes', ...common])).code).toBe(0);
      const gone = await runCli(['vault', 'open', '--password-stdin', ...common], { stdin: `${PASSWORD}\n` });
      expect(gone.code).toBe(3);
      secrets.add(key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vault metadata', () => {
  it('logs no identity, key, address, code or password', () => {
    const lines = test.logLines.join('\n');
    expect(test.logLines.length).toBeGreaterThan(20);
    for (const secret of secrets) expect(lines).not.toContain(secret);
    for (const line of codeLines) expect(lines).not.toContain(/: ([0-9]{6})$/.exec(line)?.[1] ?? '');
  });
});
