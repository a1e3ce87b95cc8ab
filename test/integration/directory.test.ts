/**
 * The directory's rules through the real adapters on DynamoDB Local, with an injected clock:
 * proof of possession (wrong key, replayed, expired, moved to another request), invites, rate
 * limits, revocation, linking and matching, deletion.
 */
import { createHash } from 'node:crypto';
import { PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAILBOX } from '../../contract/schema.ts';
import { dynamoEphemeralStore } from '../../lambdas/adapters/ephemeral.ts';
import { dynamoIdentityStore } from '../../lambdas/adapters/identities.ts';
import { dynamoMailboxPurger } from '../../lambdas/adapters/mailbox.ts';
import { epochSeconds, systemRandom } from '../../lambdas/domain/clock.ts';
import { semaphore } from '../../lambdas/domain/directory/revocation.ts';
import {
  type CodeSender,
  createDirectory,
  type Directory,
  type Proof,
  type Purpose,
  rateWindow,
} from '../../lambdas/domain/directory.ts';
import { toHex } from '../../protocol/bytes.ts';
import { contactHash, normaliseContact } from '../../protocol/contacts.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/crypto.ts';
import { answerChallenge } from '../../protocol/directory.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId, PublicKey } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { solveWork, workSeed } from '../../protocol/work.ts';
import { freshResources, type TestResources } from '../support/aws.ts';

let resources: TestResources;
// Real time: DynamoDB Local deletes items past their TTL attribute by the wall clock, as AWS does.
let now = Date.now();
const clock = { now: () => now };
const closed: string[] = [];
const sent: Array<{ kind: string; address: string; code: string }> = [];
const codes: CodeSender = {
  enabled: true,
  send: async (kind, address, code) => void sent.push({ kind, address, code }),
};

function directory(registration: 'open' | 'invite' = 'open'): Directory {
  const { dynamo } = resources.clients;
  return createDirectory({
    identities: dynamoIdentityStore(dynamo, resources.tables.identities),
    ephemeral: dynamoEphemeralStore(dynamo, resources.tables.ephemeral, () => epochSeconds(clock.now())),
    mailbox: dynamoMailboxPurger(dynamo, resources.tables.mailbox),
    sessions: { closeAll: async (connectionIds) => void closed.push(...connectionIds) },
    codes,
    clock,
    random: systemRandom,
    registration,
  });
}

/** A mailbox's owner record once closed: all that stays of a revoked or deleted identity's mailbox. */
function closedOwnerRecord(id: string) {
  return {
    [MAILBOX.attributes.recipient]: id,
    [MAILBOX.attributes.key]: '#owner',
    [MAILBOX.attributes.active]: false,
    [MAILBOX.attributes.sessions]: {},
  };
}

async function prove(
  dir: Directory,
  keys: KeyPair,
  request: Record<string, unknown> & { purpose: Purpose },
  subject?: IdentityId,
): Promise<Proof> {
  const challenge = await dir.challenge(
    request.purpose,
    subject ? { identity: subject } : { publicKey: keys.publicKey as PublicKey },
  );
  return {
    token: challenge.token,
    response: answerChallenge(keys.secretKey, challenge.temporaryPublicKey, challenge.token, request),
  };
}

/** The proof of work a registration of `keys` needs on `proof`'s challenge. */
async function createWork(dir: Directory, keys: KeyPair, proof: Proof): Promise<Uint8Array> {
  const subject = { purpose: 'create', publicKey: toHex(keys.publicKey) };
  return solveWork(workSeed(proof.token, subject), await dir.createWorkBits());
}

/** A revocation attempt with the work the server asks for now. */
async function revoke(dir: Directory, identity: IdentityId, password: string): Promise<void> {
  const { token } = await dir.challenge('revoke', { identity });
  const work = await solveWork(
    workSeed(token, { purpose: 'revoke', identity }),
    await dir.revokeWorkBits(identity),
  );
  await dir.revoke(identity, password, token, work);
}

async function create(dir: Directory, keys: KeyPair, proof: Proof, invite?: string): Promise<IdentityId> {
  return dir.create(
    { publicKey: keys.publicKey as PublicKey, featureMask: 0, ...(invite ? { invite } : {}) },
    proof,
    await createWork(dir, keys, proof),
  );
}

async function register(
  dir: Directory,
  keys = generateKeyPair(),
  invite?: string,
): Promise<{ id: IdentityId; keys: KeyPair }> {
  const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0, invite };
  const proof = await prove(dir, keys, request);
  return { id: await create(dir, keys, proof, invite), keys };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof SwitchyardError ? error.code : String(error);
}

beforeAll(async () => {
  resources = await freshResources();
});

describe('directory: identities', () => {
  it('assigns a random 8-character id to a key whose possession is proven', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    expect(id).toMatch(/^[0-9A-Z]{8}$/);
    const found = await dir.lookup(id);
    expect(toHex(found.publicKey!)).toBe(toHex(keys.publicKey));
    expect(found.state).toBe(0);
  });

  it('refuses a response made with another key, without spending the challenge a stranger can see', async () => {
    const dir = directory();
    const keys = generateKeyPair();
    const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0 };
    const challenge = await dir.challenge('create', { publicKey: keys.publicKey as PublicKey });
    const wrong = answerChallenge(
      generateKeyPair().secretKey,
      challenge.temporaryPublicKey,
      challenge.token,
      request,
    );
    const input = { publicKey: keys.publicKey as PublicKey, featureMask: 0 };
    const work = await createWork(dir, keys, { token: challenge.token, response: wrong });
    expect(await codeOf(dir.create(input, { token: challenge.token, response: wrong }, work))).toBe(
      'proof_invalid',
    );
    // Challenges are shared by everyone in a time slot: a wrong answer must not use it up for the
    // key holder (that would let a stranger block the owner), so the right answer still works, once.
    const right = answerChallenge(keys.secretKey, challenge.temporaryPublicKey, challenge.token, request);
    expect(await codeOf(dir.create(input, { token: challenge.token, response: right }, work))).toBe(
      'undefined',
    );
    expect(await codeOf(dir.create(input, { token: challenge.token, response: right }, work))).toBe(
      'challenge_invalid',
    );
  });

  it('refuses a replayed challenge response', async () => {
    const dir = directory();
    const keys = generateKeyPair();
    const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0 };
    const proof = await prove(dir, keys, request);
    const work = await createWork(dir, keys, proof);
    await dir.create({ publicKey: keys.publicKey as PublicKey, featureMask: 0 }, proof, work);
    expect(
      await codeOf(dir.create({ publicKey: keys.publicKey as PublicKey, featureMask: 0 }, proof, work)),
    ).toBe('challenge_invalid');
  });

  it('refuses an expired challenge even before TTL deletes it', async () => {
    const dir = directory();
    const keys = generateKeyPair();
    const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0 };
    const proof = await prove(dir, keys, request);
    const work = await createWork(dir, keys, proof);
    now += (LIMITS.challengeTtlSeconds + 1) * 1000;
    expect(
      await codeOf(dir.create({ publicKey: keys.publicKey as PublicKey, featureMask: 0 }, proof, work)),
    ).toBe('challenge_invalid');
  });

  it('refuses a response moved onto another request', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    const proof = await prove(dir, keys, { purpose: 'featureMask', identity: id, featureMask: 1 }, id);
    expect(await codeOf(dir.setFeatureMask(id, 0x7ff, proof))).toBe('proof_invalid');
  });

  it('lets only the key holder act for an identity', async () => {
    const dir = directory();
    const victim = await register(dir);
    const attacker = generateKeyPair();
    const proof = await prove(
      dir,
      attacker,
      { purpose: 'featureMask', identity: victim.id, featureMask: 5 },
      victim.id,
    );
    expect(await codeOf(dir.setFeatureMask(victim.id, 5, proof))).toBe('proof_invalid');
    const own = await prove(
      dir,
      victim.keys,
      { purpose: 'featureMask', identity: victim.id, featureMask: 5 },
      victim.id,
    );
    await dir.setFeatureMask(victim.id, 5, own);
    expect((await dir.lookup(victim.id)).featureMask).toBe(5);
  });

  it('answers bulk lookups in order, unknown and revoked ids alike as state 2', async () => {
    const dir = directory();
    const a = await register(dir);
    const b = await register(dir);
    await deleteIdentity(dir, b.id, b.keys);
    const results = await dir.lookupMany([a.id, 'ZZZZZZZZ' as IdentityId, b.id]);
    expect(results.map((r) => [r.identity, r.state])).toEqual([
      [a.id, 0],
      ['ZZZZZZZZ', 2],
      [b.id, 2],
    ]);
    expect(results[2]).toEqual({ identity: b.id, state: 2 });
    expect(await codeOf(dir.lookup(b.id))).toBe('not_found');
    expect(await codeOf(dir.lookup('ZZZZZZZZ' as IdentityId))).toBe('not_found');
  });
});

async function deleteIdentity(dir: Directory, id: IdentityId, keys: KeyPair) {
  await dir.delete(id, await prove(dir, keys, { purpose: 'delete', identity: id }, id));
}

describe('directory: invites', () => {
  it('registers only with a valid, unused invite under the invite policy', async () => {
    const dir = directory('invite');
    expect(await codeOf(register(dir))).toBe('invite_required');
    const invite = await dir.createInvite();
    const { id } = await register(dir, generateKeyPair(), invite);
    expect(id).toMatch(/^[0-9A-Z]{8}$/);
    expect(await codeOf(register(dir, generateKeyPair(), invite))).toBe('invite_required');
  });

  it('refuses an expired invite', async () => {
    const dir = directory('invite');
    const invite = await dir.createInvite();
    now += (LIMITS.inviteTtlDays * 86_400 + 1) * 1000;
    expect(await codeOf(register(dir, generateKeyPair(), invite))).toBe('invite_required');
  });

  it('stores only a digest of the invite', async () => {
    const dir = directory('invite');
    const invite = await dir.createInvite();
    const items = await resources.clients.dynamo.send(
      new ScanCommand({ TableName: resources.tables.ephemeral }),
    );
    const text = JSON.stringify(items.Items);
    expect(text).not.toContain(invite);
    expect(text).toContain(createHash('sha256').update(invite).digest('hex'));
  });
});

describe('directory: owner data', () => {
  it('links an e-mail address after its code is confirmed, storing only the hash', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    await dir.link(
      id,
      'email',
      ' Alice@Example.org',
      await prove(
        dir,
        keys,
        { purpose: 'link', identity: id, kind: 'email', address: ' Alice@Example.org' },
        id,
      ),
    );
    const { code, address } = sent.at(-1)!;
    expect(address).toBe('alice@example.org');
    const wrong = code === '000000' ? '000001' : '000000';
    expect(
      await codeOf(
        dir.confirm(
          id,
          'email',
          wrong,
          await prove(dir, keys, { purpose: 'confirm', identity: id, kind: 'email', code: wrong }, id),
        ),
      ),
    ).toBe('code_invalid');
    await dir.confirm(
      id,
      'email',
      code,
      await prove(dir, keys, { purpose: 'confirm', identity: id, kind: 'email', code }, id),
    );

    const data = await dir.export(id, await prove(dir, keys, { purpose: 'export', identity: id }, id));
    expect(data.emailHash).toBe(toHex(contactHash('email', 'alice@example.org')));
    const tables = JSON.stringify(
      await Promise.all(
        Object.values(resources.tables).map((table) =>
          resources.clients.dynamo.send(new ScanCommand({ TableName: table })),
        ),
      ),
    );
    expect(tables.toLowerCase()).not.toContain('alice@example.org');
  });

  it('exports every stored field with the *MY3DATA keys', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    await dir.setRevocationPassword(
      id,
      'correct horse',
      await prove(dir, keys, { purpose: 'revocationPassword', identity: id, password: 'correct horse' }, id),
    );
    const data = await dir.export(id, await prove(dir, keys, { purpose: 'export', identity: id }, id));
    expect(data).toEqual({
      identity: id,
      publicKey: toHex(keys.publicKey),
      issueDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      lastLogin: new Date(now).toISOString().slice(0, 10),
      mobileNoHash: null,
      emailHash: null,
      featureMask: 0,
      pushTokens: [],
      revocationKey: true,
    });
  });

  it('matches contacts by hash, returns only other active identities, and stores no hash', async () => {
    const dir = directory();
    const bob = await register(dir);
    await dir.link(
      bob.id,
      'phone',
      '+41 79 123 45 67',
      await prove(
        dir,
        bob.keys,
        { purpose: 'link', identity: bob.id, kind: 'phone', address: '+41 79 123 45 67' },
        bob.id,
      ),
    );
    const { code } = sent.at(-1)!;
    await dir.confirm(
      bob.id,
      'phone',
      code,
      await prove(dir, bob.keys, { purpose: 'confirm', identity: bob.id, kind: 'phone', code }, bob.id),
    );

    const alice = await register(dir);
    const phone = contactHash('phone', normaliseContact('phone', '0041791234567'));
    const unknown = contactHash('phone', '41790000000');
    const request = {
      purpose: 'match' as const,
      identity: alice.id,
      emailHashes: [],
      phoneHashes: [toHex(phone), toHex(unknown)],
    };
    const matches = await dir.match(
      alice.id,
      { email: [], phone: [phone, unknown] },
      await prove(dir, alice.keys, request, alice.id),
    );
    expect(matches).toEqual([
      { identity: bob.id, publicKey: bob.keys.publicKey, kind: 'phone', hash: phone },
    ]);

    const ephemeral = JSON.stringify(
      await resources.clients.dynamo.send(new ScanCommand({ TableName: resources.tables.ephemeral })),
    );
    expect(ephemeral).not.toContain(toHex(unknown));
    expect(ephemeral).not.toContain(Buffer.from(unknown).toString('base64'));
  });

  it('rate-limits contact matching per identity', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    const hashes = Array.from({ length: LIMITS.matchMaxHashes }, (_, i) =>
      contactHash('email', `user${i}@example.org`),
    );
    const request = {
      purpose: 'match' as const,
      identity: id,
      emailHashes: hashes.map(toHex),
      phoneHashes: [],
    };
    let refused = '';
    for (
      let round = 0;
      round < Math.ceil(LIMITS.matchHashesPerDay / LIMITS.matchMaxHashes) + 1 && !refused;
      round++
    ) {
      refused = await codeOf(
        dir.match(id, { email: hashes, phone: [] }, await prove(dir, keys, request, id)),
      );
      if (refused === 'undefined') refused = '';
    }
    expect(refused).toBe('rate_limited');
  });
});

describe('directory: revocation and deletion', () => {
  it('revokes without the device with the right password, purging the mailbox', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    await dir.setRevocationPassword(
      id,
      'correct horse',
      await prove(dir, keys, { purpose: 'revocationPassword', identity: id, password: 'correct horse' }, id),
    );
    await resources.clients.dynamo.send(
      new PutCommand({
        TableName: resources.tables.mailbox,
        Item: { [MAILBOX.attributes.recipient]: id, [MAILBOX.attributes.key]: '1' },
      }),
    );
    expect(await codeOf(revoke(dir, id, 'wrong horse'))).toBe('revocation_failed');
    // A live session, listed on the owner record the registration made.
    await resources.clients.dynamo.send(
      new UpdateCommand({
        TableName: resources.tables.mailbox,
        Key: { [MAILBOX.attributes.recipient]: id, [MAILBOX.attributes.key]: '#owner' },
        UpdateExpression: 'SET #s.#c = :entry',
        ExpressionAttributeNames: { '#s': MAILBOX.attributes.sessions, '#c': 'live-connection' },
        ExpressionAttributeValues: { ':entry': { k: new Uint8Array(32), e: epochSeconds(clock.now()) + 60 } },
      }),
    );
    await revoke(dir, id, 'correct horse');
    expect(await codeOf(dir.lookup(id))).toBe('not_found');
    expect(closed).toContain('live-connection');
    const mailbox = await resources.clients.dynamo.send(
      new ScanCommand({ TableName: resources.tables.mailbox }),
    );
    // Only the closed owner record is left: it receives nothing, and lists no session.
    expect(mailbox.Items?.filter((item) => item[MAILBOX.attributes.recipient] === id)).toEqual([
      closedOwnerRecord(id),
    ]);
    // A revoked identity can't act any more.
    expect(await codeOf(dir.challenge('export', { identity: id }))).toBe('not_found');
  });

  it('lets the owner revoke after a stranger’s wrong guesses at full speed; the guesser pays rising work', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    await dir.setRevocationPassword(
      id,
      'correct horse',
      await prove(dir, keys, { purpose: 'revocationPassword', identity: id, password: 'correct horse' }, id),
    );
    // A stranger who knows only the id guesses, all at once; nothing is refused as "too many".
    const guesses = 2 * LIMITS.revocationFailuresPerExtraWorkBit;
    const outcomes = await Promise.all(
      Array.from({ length: guesses }, (_, i) => codeOf(revoke(dir, id, `guess ${i}`))),
    );
    expect(outcomes.every((o) => o === 'revocation_failed' || o === 'work_required')).toBe(true);
    const wrong = outcomes.filter((o) => o === 'revocation_failed').length;
    // Each wrong guess was paid for, and raised the work the next guess on this identity needs.
    expect(await dir.revokeWorkBits(id)).toBe(
      Math.min(
        LIMITS.revocationWorkBitsMax,
        LIMITS.revocationWorkBits + Math.floor(wrong / LIMITS.revocationFailuresPerExtraWorkBit),
      ),
    );
    // A guess without enough work is refused before any scrypt, and counts nothing.
    const { token } = await dir.challenge('revoke', { identity: id });
    const cheap = await solveWork(workSeed(token, { purpose: 'revoke', identity: id }), 0);
    expect(await codeOf(dir.revoke(id, 'guess', token, cheap))).toBe('work_required');
    // The owner still gets through with the right password.
    await revoke(dir, id, 'correct horse');
    expect(await codeOf(dir.lookup(id))).toBe('not_found');
  });

  it('caps the work a revocation needs, so the owner is never locked out', async () => {
    const dir = directory();
    const { id } = await register(dir);
    const { key, endsAt } = rateWindow('revoke', id, 86_400, epochSeconds(now));
    await resources.clients.dynamo.send(
      new PutCommand({
        TableName: resources.tables.ephemeral,
        Item: { key: `rate:${key}`, count: 1_000_000, expiresAt: endsAt },
      }),
    );
    expect(await dir.revokeWorkBits(id)).toBe(LIMITS.revocationWorkBitsMax);
  });

  it('runs at most revocationScryptConcurrency scrypts at once in one process', async () => {
    const run = semaphore(LIMITS.revocationScryptConcurrency);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
        }),
      ),
    );
    expect(most).toBe(LIMITS.revocationScryptConcurrency);
  });

  it('refuses revocation of an identity without a revocation password', async () => {
    const dir = directory();
    const { id } = await register(dir);
    expect(await codeOf(revoke(dir, id, 'anything at all'))).toBe('revocation_failed');
    expect((await dir.lookup(id)).state).toBe(0);
  });

  it('deletes everything about an identity but a bare tombstone', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    // A link started but never confirmed leaves a pending item (with the address hash): it goes too.
    const address = 'pending@example.org';
    await dir.link(
      id,
      'email',
      address,
      await prove(dir, keys, { purpose: 'link', identity: id, kind: 'email', address }, id),
    );
    const pending = () =>
      resources.clients.dynamo
        .send(new ScanCommand({ TableName: resources.tables.ephemeral }))
        .then((scan) => (scan.Items ?? []).filter((item) => String(item.key).startsWith(`link:${id}:`)));
    expect(await pending()).toHaveLength(1);
    await deleteIdentity(dir, id, keys);
    const items = await resources.clients.dynamo.send(
      new ScanCommand({ TableName: resources.tables.identities }),
    );
    expect(items.Items?.find((item) => item.identity === id)).toEqual({ identity: id, state: 'revoked' });
    expect(await pending()).toEqual([]);
    // The mailbox keeps only its closed owner record (a bare tombstone too: it receives nothing).
    const mailbox = await resources.clients.dynamo.send(
      new ScanCommand({ TableName: resources.tables.mailbox }),
    );
    expect(mailbox.Items?.filter((item) => item[MAILBOX.attributes.recipient] === id)).toEqual([
      closedOwnerRecord(id),
    ]);
  });
});
