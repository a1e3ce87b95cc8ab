/**
 * The directory through the local runner, driven by the client SDK and by raw HTTP over real
 * sockets: the same handler, adapters and router as on AWS, on DynamoDB Local. Ends with the
 * metadata check: no identifier in any log line, no match-only hash or address in any table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryClient, DirectoryError } from '../../client/directory/client.ts';
import { TABLE_NAMES } from '../../contract/schema.ts';
import { rateWindow } from '../../lambdas/domain/directory.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { type Runner, startRunner } from '../../local/runner.ts';
import { toHex } from '../../protocol/bytes.ts';
import { type ContactKind, contactHash, normaliseContact } from '../../protocol/contacts.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/crypto.ts';
import { answerChallenge } from '../../protocol/directory.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { solveWork, workSeed } from '../../protocol/work.ts';
import { issueTestInvite, sharedServices } from '../support/runner.ts';

const logLines: string[] = [];
const codeLines: string[] = [];
const dataDirs: string[] = [];
const runners: Runner[] = [];
let runner: Runner;
let client: DirectoryClient;

/** Everything identifying this suite sends, for the metadata check at the end. */
const seen = { identities: new Set<string>(), keys: new Set<string>() };
const hashHex = (kind: ContactKind, address: string) =>
  toHex(contactHash(kind, normaliseContact(kind, address)));

const ALICE_EMAIL = '  Alice.Liddell@Example.ORG ';
const ALICE_PHONE = '+41 79 123 45 67';
const BOB_EMAIL = 'bob@example.net';
/** Sent only for matching: must never be stored or logged anywhere. */
const MATCH_ONLY = { email: 'nobody.here@example.com', phone: '+44 20 7946 0958' };

async function start(options: { registrationPolicy?: 'open' | 'invite' } = {}): Promise<Runner> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-directory-e2e-'));
  dataDirs.push(dataDir);
  const started = await startRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    logSink: (line) => logLines.push(line),
    codeSink: (line) => codeLines.push(line),
    ...sharedServices(),
    ...options,
  });
  runners.push(started);
  return started;
}

async function register(on: DirectoryClient, options: { invite?: string; featureMask?: number } = {}) {
  const keys = generateKeyPair();
  const identity = await on.createIdentity(keys, options);
  seen.identities.add(identity);
  seen.keys.add(toHex(keys.publicKey));
  return { identity, keys };
}

/** The code the runner printed for the latest link of `kind`. */
function latestCode(kind: ContactKind): string {
  const line = codeLines.filter((l) => l.includes(`the ${kind} being linked`)).at(-1);
  const code = /: ([0-9]{6})$/.exec(line ?? '')?.[1];
  if (!code) throw new Error(`no ${kind} code printed`);
  return code;
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof DirectoryError ? error.code : `no DirectoryError: ${String(error)}`;
}

async function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(`directory/${path}`, runner.httpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A create request with a valid proof, built by hand so tests can vary the body around it. */
async function createBody(keys: KeyPair): Promise<Record<string, unknown>> {
  const publicKey = toHex(keys.publicKey);
  const challenge = await post('challenge', { purpose: 'create', publicKey });
  expect(challenge.status).toBe(200);
  const token = String(challenge.json.token);
  const temporary = Buffer.from(String(challenge.json.temporaryPublicKey), 'hex');
  const request = { purpose: 'create', publicKey, featureMask: 0 };
  const response = answerChallenge(keys.secretKey, temporary, Buffer.from(token, 'hex'), request);
  const seed = workSeed(Buffer.from(token, 'hex'), { purpose: 'create', publicKey });
  const work = toHex(await solveWork(seed, Number(challenge.json.work ?? 0)));
  return { publicKey, featureMask: 0, token, response: toHex(response), work };
}

/** Every item of every table of `target`, with bytes as hex, as one string per item. */
async function dumpTables(target: Runner): Promise<string[]> {
  const aws = createClients({
    endpoints: target.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const items: string[] = [];
    for (const table of TABLE_NAMES) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await aws.dynamo.send(
          new ScanCommand({ TableName: target.tables[table], ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) {
          items.push(
            JSON.stringify(item, (_key, value: unknown) =>
              value instanceof Uint8Array ? toHex(value) : value,
            ),
          );
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return items;
  } finally {
    aws.destroy();
  }
}

beforeAll(async () => {
  runner = await start();
  client = new DirectoryClient({ server: runner.httpUrl });
});

afterAll(async () => {
  for (const started of runners) await started.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('directory through the runner, with the SDK', () => {
  let alice: { identity: IdentityId; keys: KeyPair };
  let bob: { identity: IdentityId; keys: KeyPair };

  it('registers a key under a new random ID and looks it up', async () => {
    alice = await register(client);
    expect(alice.identity).toMatch(/^[0-9A-Z]{8}$/);
    const found = await client.lookup(alice.identity);
    expect(found).toEqual({
      identity: alice.identity,
      state: 0,
      publicKey: alice.keys.publicKey,
      featureMask: 0,
    });
    const raw = await fetch(new URL(`directory/identities/${alice.identity}`, runner.httpUrl));
    expect(raw.status).toBe(200);
    expect(raw.headers.get('cache-control')).toBe('no-store');
    expect(await raw.json()).toEqual({
      identity: alice.identity,
      state: 0,
      publicKey: toHex(alice.keys.publicKey),
      featureMask: 0,
    });
  });

  it('runs the owner operations: feature mask, link with the printed code, unlink, revocation password, export', async () => {
    const owner = client.owner(alice.identity, alice.keys.secretKey);
    await owner.setFeatureMask(0x0013);
    expect((await client.lookup(alice.identity))?.featureMask).toBe(0x0013);

    const printed = codeLines.length;
    await owner.link('email', ALICE_EMAIL);
    expect(codeLines).toHaveLength(printed + 1);
    const code = latestCode('email');
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await errorCode(owner.confirm('email', wrong))).toBe('code_invalid');
    expect((await owner.export()).emailHash).toBeNull();
    await owner.confirm('email', code);

    await owner.link('phone', ALICE_PHONE);
    await owner.confirm('phone', latestCode('phone'));
    let data = await owner.export();
    expect(data.emailHash).toBe(hashHex('email', ALICE_EMAIL));
    expect(data.mobileNoHash).toBe(hashHex('phone', ALICE_PHONE));
    // A used code is gone: confirming again fails.
    expect(await errorCode(owner.confirm('phone', latestCode('phone')))).toBe('code_invalid');

    await owner.unlink('phone');
    expect(await owner.export()).toMatchObject({ mobileNoHash: null, revocationKey: false });
    await owner.setRevocationPassword('a long revocation password');
    data = await owner.export();
    expect(Object.keys(data).sort()).toEqual(
      [
        'identity',
        'publicKey',
        'issueDate',
        'lastLogin',
        'mobileNoHash',
        'emailHash',
        'featureMask',
        'pushTokens',
        'revocationKey',
      ].sort(),
    );
    expect(data).toMatchObject({
      identity: alice.identity,
      publicKey: toHex(alice.keys.publicKey),
      emailHash: hashHex('email', ALICE_EMAIL),
      mobileNoHash: null,
      featureMask: 0x0013,
      pushTokens: [],
      revocationKey: true,
    });
    expect(data.issueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(data.lastLogin).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('prints codes naming the kind only, never the address', () => {
    expect(codeLines.length).toBeGreaterThanOrEqual(2);
    for (const line of codeLines) {
      expect(line).not.toMatch(/alice|liddell|example/i);
      expect(line).not.toContain('791234567');
    }
  });

  it('matches contacts between two identities by hash, never oneself or an unlinked address', async () => {
    bob = await register(client);
    const bobOwner = client.owner(bob.identity, bob.keys.secretKey);
    await bobOwner.link('email', BOB_EMAIL);
    await bobOwner.confirm('email', latestCode('email'));

    const matches = await bobOwner.match({
      emails: ['alice.liddell@example.org', MATCH_ONLY.email],
      phones: [ALICE_PHONE, MATCH_ONLY.phone],
    });
    expect(matches).toEqual([
      {
        identity: alice.identity,
        publicKey: alice.keys.publicKey,
        kind: 'email',
        address: 'alice.liddell@example.org',
      },
    ]);
    const own = await client.owner(alice.identity, alice.keys.secretKey).match({ emails: [ALICE_EMAIL] });
    expect(own).toEqual([]);
    expect(await client.owner(alice.identity, alice.keys.secretKey).match({ emails: [BOB_EMAIL] })).toEqual([
      { identity: bob.identity, publicKey: bob.keys.publicKey, kind: 'email', address: BOB_EMAIL },
    ]);
  });

  it('lets only the key holder act: a proof from another key is refused', async () => {
    const intruder = client.owner(alice.identity, generateKeyPair().secretKey);
    expect(await errorCode(intruder.export())).toBe('proof_invalid');
    expect(await errorCode(intruder.setFeatureMask(0))).toBe('proof_invalid');
    expect((await client.lookup(alice.identity))?.featureMask).toBe(0x0013);
  });

  it('refuses a replayed proof and a proof moved onto another request', async () => {
    const keys = generateKeyPair();
    const body = await createBody(keys);
    const first = await post('identities', body);
    expect(first.status).toBe(201);
    seen.identities.add(String(first.json.identity));
    seen.keys.add(toHex(keys.publicKey));
    expect(await post('identities', body)).toEqual({
      status: 401,
      json: { error: 'challenge_invalid', message: 'Challenge invalid or expired' },
    });
    const moved = await createBody(generateKeyPair());
    expect((await post('identities', { ...moved, featureMask: 5 })).json.error).toBe('proof_invalid');
  });

  it('revokes with the password; then the ID is unknown and its challenges are refused', async () => {
    expect(await errorCode(client.revoke(alice.identity, 'not the password at all'))).toBe(
      'revocation_failed',
    );
    expect(await client.lookup(alice.identity)).toBeDefined();
    await client.revoke(alice.identity, 'a long revocation password');

    expect(await client.lookup(alice.identity)).toBeUndefined();
    expect(await client.lookupMany([bob.identity, alice.identity])).toEqual([
      { identity: bob.identity, state: 0, publicKey: bob.keys.publicKey, featureMask: 0 },
      { identity: alice.identity, state: 2 },
    ]);
    expect(await errorCode(client.owner(alice.identity, alice.keys.secretKey).export())).toBe('not_found');
    const challenge = await post('challenge', { purpose: 'export', identity: alice.identity });
    expect(challenge).toEqual({ status: 404, json: { error: 'not_found', message: 'Not found' } });
    // Revoked twice: refused like any identity without a password.
    expect(await errorCode(client.revoke(alice.identity, 'a long revocation password'))).toBe(
      'revocation_failed',
    );
    // Its linked address no longer matches.
    expect(
      await client.owner(bob.identity, bob.keys.secretKey).match({ emails: ['alice.liddell@example.org'] }),
    ).toEqual([]);
  });

  it('deletes an identity: afterwards it is unknown, like a revoked one', async () => {
    const carol = await register(client, { featureMask: 0x0400 });
    expect((await client.lookup(carol.identity))?.featureMask).toBe(0x0400);
    await client.owner(carol.identity, carol.keys.secretKey).delete();
    expect(await client.lookup(carol.identity)).toBeUndefined();
    expect(await errorCode(client.owner(carol.identity, carol.keys.secretKey).export())).toBe('not_found');
  });
});

describe('HTTP refusals through real HTTP', () => {
  it('answers malformed JSON and non-object bodies with 400 bad_request', async () => {
    for (const body of ['{"purpose": "create",', '[]', '"text"', 'null', '']) {
      expect(await post('challenge', body), body).toEqual({
        status: 400,
        json: { error: 'bad_request', message: 'Malformed request' },
      });
    }
    const lowercase = await fetch(new URL('directory/identities/abcdefgh', runner.httpUrl));
    expect(lowercase.status).toBe(400);
  });

  it('refuses an oversize body with 413 before reading it, changing nothing', async () => {
    const keys = generateKeyPair();
    const body = await createBody(keys);
    const before = (await dumpTables(runner)).length;
    const padded = JSON.stringify({ ...body, pad: 'x'.repeat(LIMITS.directoryBodyBytes) });
    expect(await post('identities', padded)).toEqual({
      status: 413,
      json: { error: 'too_large', message: 'Request too large' },
    });
    expect((await dumpTables(runner)).length).toBe(before);
    // The challenge was not spent: the same proof still registers the key.
    const created = await post('identities', body);
    expect(created.status).toBe(201);
    seen.identities.add(String(created.json.identity));
    seen.keys.add(toHex(keys.publicKey));
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect(await post('nothing-here', {})).toEqual({
      status: 404,
      json: { error: 'not_found', message: 'Not found' },
    });
    expect((await post('identities/ABCDEFGH/export/more', {})).status).toBe(404);
    expect(
      (await post('identities/ABCDEFGH/fly', { token: '00'.repeat(32), response: '00'.repeat(32) })).status,
    ).toBe(404);
    for (const [method, path] of [
      ['DELETE', 'identities/ABCDEFGH'],
      ['GET', 'lookup'],
      ['PUT', 'challenge'],
    ] as const) {
      const response = await fetch(new URL(`directory/${path}`, runner.httpUrl), { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(await response.json()).toEqual({ error: 'method_not_allowed', message: 'Method not allowed' });
    }
  });

  it('refuses to register a small-order key (all zeros, 01 00…00): no challenge, no identity', async () => {
    const before = (await dumpTables(runner)).length;
    for (const publicKey of ['00'.repeat(32), `01${'00'.repeat(31)}`]) {
      // The attack: with such a key the proof's shared secret is all zero, so anyone can answer.
      const challenge = await post('challenge', { purpose: 'create', publicKey });
      expect(challenge, publicKey).toEqual({
        status: 400,
        json: { error: 'bad_request', message: 'Malformed request' },
      });
      const created = await post('identities', {
        publicKey,
        featureMask: 0,
        token: '00'.repeat(32),
        response: '00'.repeat(32),
      });
      expect(created.status, publicKey).toBe(400);
      expect(created.json.error).toBe('bad_request');
    }
    expect((await dumpTables(runner)).length).toBe(before);
  });

  it('looks up at most 100 identities at once', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `ZZ${String(i).padStart(6, '0')}`);
    const full = await post('lookup', { identities: ids(LIMITS.lookupMaxIds) });
    expect(full.status).toBe(200);
    expect(full.json.results).toHaveLength(LIMITS.lookupMaxIds);
    expect(await post('lookup', { identities: ids(LIMITS.lookupMaxIds + 1) })).toEqual({
      status: 400,
      json: { error: 'bad_request', message: 'Malformed request' },
    });
    expect((await post('lookup', { identities: [] })).status).toBe(400);
  });
});

describe('invite-only registration', () => {
  let invited: Runner;
  let inviteClient: DirectoryClient;

  beforeAll(async () => {
    invited = await start({ registrationPolicy: 'invite' });
    inviteClient = new DirectoryClient({ server: invited.httpUrl });
  });

  const invite = () => issueTestInvite(invited);

  it('refuses registration without an invite or with an unknown one', async () => {
    expect(await errorCode(register(inviteClient))).toBe('invite_required');
    expect(await errorCode(register(inviteClient, { invite: '0'.repeat(32) }))).toBe('invite_required');
  });

  it('registers once per invite issued through the runner’s DynamoDB', async () => {
    const token = await invite();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const { identity } = await register(inviteClient, { invite: token });
    expect((await inviteClient.lookup(identity))?.state).toBe(0);
    expect(await errorCode(register(inviteClient, { invite: token }))).toBe('invite_required');
  });

  it('stores only the digest of an invite, never the token', async () => {
    const token = await invite();
    const items = await dumpTables(invited);
    expect(items.some((item) => item.includes('invite:'))).toBe(true);
    for (const item of items) expect(item).not.toContain(token);
  });
});

describe('no limit is a weapon (issue 15)', () => {
  it('lets the owner act after a stranger asked 125 challenges for its ID', async () => {
    const victim = await register(client);
    for (let i = 0; i < 125; i++)
      expect((await post('challenge', { purpose: 'export', identity: victim.identity })).status).toBe(200);
    const owner = client.owner(victim.identity, victim.keys.secretKey);
    expect((await owner.export()).identity).toBe(victim.identity);
    await owner.setRevocationPassword('still the owner here');
    await owner.delete();
  });

  it('stores nothing per challenge request: 400 challenges for random keys', async () => {
    const challenges = async () =>
      (await dumpTables(runner)).filter((item) => item.includes('"key":"challenge:')).length;
    const before = await challenges();
    for (let i = 0; i < 400; i++) {
      const publicKey = toHex(generateKeyPair().publicKey);
      expect((await post('challenge', { purpose: 'create', publicKey })).status).toBe(200);
    }
    // At most the slot challenges of the time slots the loop crossed.
    expect((await challenges()) - before).toBeLessThanOrEqual(2);
  });

  it('lets the owner revoke after a stranger’s wrong guesses at full speed', async () => {
    const victim = await register(client);
    await client.owner(victim.identity, victim.keys.secretKey).setRevocationPassword('the owner knows this');
    const outcomes = await Promise.all(
      Array.from({ length: 15 }, (_, i) => errorCode(client.revoke(victim.identity, `guess number ${i}`))),
    );
    expect(outcomes.every((o) => o === 'revocation_failed')).toBe(true);
    await client.revoke(victim.identity, 'the owner knows this');
    expect(await client.lookup(victim.identity)).toBeUndefined();
  });

  it('makes each revocation guess pay work first, more after wrong ones, and refuses it unpaid before any check', async () => {
    const target = await register(client);
    const asked = await post('challenge', { purpose: 'revoke', identity: target.identity });
    expect(asked.status).toBe(200);
    expect(asked.json.work).toBe(LIMITS.revocationWorkBits);
    for (let i = 0; i < LIMITS.revocationFailuresPerExtraWorkBit; i++)
      expect(await errorCode(client.revoke(target.identity, `wrong ${i}`))).toBe('revocation_failed');
    const again = await post('challenge', { purpose: 'revoke', identity: target.identity });
    expect(again.json.work).toBe(LIMITS.revocationWorkBits + 1);
    const unpaid = await post('revoke', {
      identity: target.identity,
      password: 'anything',
      token: again.json.token,
      work: '0000000000000000',
    });
    expect(unpaid.json.error).toBe('work_required');
    expect(await post('revoke', { identity: target.identity, password: 'anything' })).toMatchObject({
      status: 400,
    });
  });

  it('registers after one client used up what was the deployment’s hourly cap; the work rises instead', async () => {
    const aws = createClients({
      endpoints: runner.endpoints,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const { key, endsAt } = rateWindow('create', 'deployment', 3600, Math.floor(Date.now() / 1000));
    try {
      await aws.dynamo.send(
        new PutCommand({
          TableName: runner.tables.ephemeral,
          Item: { key: `rate:${key}`, count: LIMITS.createsPerExtraWorkBit, expiresAt: endsAt },
        }),
      );
    } finally {
      aws.destroy();
    }
    const asked = await post('challenge', {
      purpose: 'create',
      publicKey: toHex(generateKeyPair().publicKey),
    });
    expect(asked.json.work).toBe(LIMITS.createWorkBits + 1);
    const late = await register(client);
    expect((await client.lookup(late.identity))?.state).toBe(0);
  });
});

describe('metadata restraint', () => {
  it('writes no identity, key, hash or address into any log line', () => {
    expect(logLines.length).toBeGreaterThan(40);
    const hashes = [
      hashHex('email', ALICE_EMAIL),
      hashHex('phone', ALICE_PHONE),
      hashHex('email', BOB_EMAIL),
      hashHex('email', MATCH_ONLY.email),
      hashHex('phone', MATCH_ONLY.phone),
    ];
    const needles = [
      ...seen.identities,
      ...seen.keys,
      ...hashes,
      'alice',
      'bob@',
      'nobody',
      'example',
      '791234567',
      '2079460958',
    ];
    expect(seen.identities.size).toBeGreaterThanOrEqual(5);
    for (const line of logLines) {
      expect(() => JSON.parse(line), line).not.toThrow();
      for (const needle of needles) expect(line.toLowerCase(), line).not.toContain(needle.toLowerCase());
    }
  });

  it('keeps no match-only hash, unlinked hash or plaintext address in any table', async () => {
    const items = (await Promise.all(runners.map(dumpTables))).flat();
    // The scan does see hashes: Bob's linked address is stored, as its hash only.
    expect(items.some((item) => item.includes(hashHex('email', BOB_EMAIL)))).toBe(true);
    const absent = [
      hashHex('email', MATCH_ONLY.email),
      hashHex('phone', MATCH_ONLY.phone),
      // Unlinked, and revoked with the identity:
      hashHex('phone', ALICE_PHONE),
      hashHex('email', ALICE_EMAIL),
      'alice',
      'liddell',
      'bob@',
      'nobody',
      'example',
      '791234567',
      '2079460958',
    ];
    for (const item of items) {
      for (const needle of absent) expect(item.toLowerCase()).not.toContain(needle);
    }
  });
});
