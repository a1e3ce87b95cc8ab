/**
 * The directory's rules through the real adapters on DynamoDB Local, with an injected clock:
 * proof of possession (wrong key, replayed, expired, moved to another request), invites, rate
 * limits, revocation, linking and matching, deletion.
 */
import { createHash } from 'node:crypto';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAILBOX } from '../../contract/schema.ts';
import { dynamoEphemeralStore } from '../../lambdas/adapters/ephemeral.ts';
import { dynamoIdentityStore } from '../../lambdas/adapters/identities.ts';
import { dynamoMailboxPurger } from '../../lambdas/adapters/mailbox.ts';
import { epochSeconds, systemRandom } from '../../lambdas/domain/clock.ts';
import {
  type CodeSender,
  createDirectory,
  type Directory,
  type Proof,
  type Purpose,
} from '../../lambdas/domain/directory.ts';
import { toHex } from '../../protocol/bytes.ts';
import { contactHash, normaliseContact } from '../../protocol/contacts.ts';
import { generateKeyPair, type KeyPair } from '../../protocol/crypto.ts';
import { answerChallenge } from '../../protocol/directory.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId, PublicKey } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { freshResources, type TestResources } from '../support/aws.ts';

let resources: TestResources;
let now = Date.UTC(2026, 10, 22, 12);
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
    sessions: { closeAll: async (identity) => void closed.push(identity) },
    codes,
    clock,
    random: systemRandom,
    registration,
  });
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

async function register(
  dir: Directory,
  keys = generateKeyPair(),
  invite?: string,
): Promise<{ id: IdentityId; keys: KeyPair }> {
  const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0, invite };
  const proof = await prove(dir, keys, request);
  const id = await dir.create(
    { publicKey: keys.publicKey as PublicKey, featureMask: 0, ...(invite ? { invite } : {}) },
    proof,
  );
  return { id, keys };
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

  it('refuses a response made with another key, and the challenge is spent', async () => {
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
    expect(await codeOf(dir.create(input, { token: challenge.token, response: wrong }))).toBe(
      'proof_invalid',
    );
    const right = answerChallenge(keys.secretKey, challenge.temporaryPublicKey, challenge.token, request);
    expect(await codeOf(dir.create(input, { token: challenge.token, response: right }))).toBe(
      'challenge_invalid',
    );
  });

  it('refuses a replayed challenge response', async () => {
    const dir = directory();
    const keys = generateKeyPair();
    const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0 };
    const proof = await prove(dir, keys, request);
    await dir.create({ publicKey: keys.publicKey as PublicKey, featureMask: 0 }, proof);
    expect(await codeOf(dir.create({ publicKey: keys.publicKey as PublicKey, featureMask: 0 }, proof))).toBe(
      'challenge_invalid',
    );
  });

  it('refuses an expired challenge even before TTL deletes it', async () => {
    const dir = directory();
    const keys = generateKeyPair();
    const request = { purpose: 'create' as const, publicKey: toHex(keys.publicKey), featureMask: 0 };
    const proof = await prove(dir, keys, request);
    now += (LIMITS.challengeTtlSeconds + 1) * 1000;
    expect(await codeOf(dir.create({ publicKey: keys.publicKey as PublicKey, featureMask: 0 }, proof))).toBe(
      'challenge_invalid',
    );
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
    expect(await codeOf(dir.revoke(id, 'wrong horse'))).toBe('revocation_failed');
    await dir.revoke(id, 'correct horse');
    expect(await codeOf(dir.lookup(id))).toBe('not_found');
    expect(closed).toContain(id);
    const mailbox = await resources.clients.dynamo.send(
      new ScanCommand({ TableName: resources.tables.mailbox }),
    );
    expect(mailbox.Items?.filter((item) => item[MAILBOX.attributes.recipient] === id)).toEqual([]);
    // A revoked identity can't act any more.
    expect(await codeOf(dir.challenge('export', { identity: id }))).toBe('not_found');
  });

  it('limits revocation guesses per identity, right or wrong', async () => {
    const dir = directory();
    const { id, keys } = await register(dir);
    await dir.setRevocationPassword(
      id,
      'correct horse',
      await prove(dir, keys, { purpose: 'revocationPassword', identity: id, password: 'correct horse' }, id),
    );
    const outcomes: string[] = [];
    for (let i = 0; i < LIMITS.revocationAttemptsPerDay + 1; i++)
      outcomes.push(await codeOf(dir.revoke(id, `guess ${i}`)));
    expect(outcomes.slice(0, LIMITS.revocationAttemptsPerDay).every((o) => o === 'revocation_failed')).toBe(
      true,
    );
    expect(outcomes.at(-1)).toBe('rate_limited');
    expect(await codeOf(dir.revoke(id, 'correct horse'))).toBe('rate_limited');
  });

  it('refuses revocation of an identity without a revocation password', async () => {
    const dir = directory();
    const { id } = await register(dir);
    expect(await codeOf(dir.revoke(id, 'anything at all'))).toBe('revocation_failed');
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
    expect(closed).toContain(id);
  });
});
