/**
 * Properties (fast-check) of the vault's security claims (docs/SECURITY.md, "The backup key vault"),
 * against the local runner on DynamoDB Local, over HTTP:
 *
 * - answers never exceed the tries left, also for N attempts at once;
 * - a crash after the decrement fails closed: no try comes back;
 * - a replayed finish never restores tries (nor releases the key twice);
 * - an unknown vault answers like a known one (status, fields, sizes).
 *
 * The OPAQUE client here stretches passwords with a tiny Argon2id (the server never stretches, so
 * this changes nothing on its side) to afford hundreds of logins; vault-sdk.test.ts uses the real one.
 * A "real answer" is a KE2 from the stored record: with the right password the client can finish it
 * (a decoy KE2 cannot be finished), so counting finishable KE2s counts real answers, black-box.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as opaque from '@serenity-kit/opaque';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryClient } from '../../client/directory/client.ts';
import { VaultClient } from '../../client/vault/client.ts';
import { VAULT } from '../../contract/schema.ts';
import { dynamoVaultStore } from '../../lambdas/adapters/vault.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair, type KeyPair, randomBytes } from '../../protocol/crypto.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { vaultSigned, wrapVaultKey } from '../../protocol/vault.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';
import { b64, freshFetch, hex, type VaultReply, vaultPost, vaultProof } from '../support/vault.ts';

const FAST = { 'argon2id-custom': { iterations: 1, memory: 8, parallelism: 1 } } as const;
const PASSWORD = '0815';
const EMAIL = 'vault.properties@example.org';
const A = VAULT.attributes;

let test: TestRunner;
let owner: { identity: IdentityId; keys: KeyPair };
/** One registration, stored again for every run (a store may carry any record and credential). */
let registration: { record: string; credential: string; wrapped: string };
const codeLines: string[] = [];

const post = (path: string, body: unknown) => vaultPost(test.runner.httpUrl, path, body);
const proof = (
  identity: string,
  signed: Readonly<Record<string, unknown>>,
  secretKey = owner.keys.secretKey,
) => vaultProof(test.runner.httpUrl, identity, secretKey, signed);
const store = () => dynamoVaultStore(test.clients.dynamo, test.runner.tables.vault);

async function storeVault(tries: number) {
  const { identity } = owner;
  const { record, credential, wrapped } = registration;
  const stored = await post(`identities/${identity}/store`, {
    record,
    credential,
    wrapped,
    tries,
    ...(await proof(identity, vaultSigned.store(identity, record, credential, wrapped, tries))),
  });
  expect(stored.status).toBe(200);
}

async function triesLeft(): Promise<number | undefined> {
  const { Item } = await test.clients.dynamo.send(
    new GetCommand({
      TableName: test.runner.tables.vault,
      Key: { [A.identity]: owner.identity, [A.item]: 'record' },
      ConsistentRead: true,
    }),
  );
  return Item ? Number(Item[A.tries]) : undefined;
}

/** Starts an attempt with the owner's proof; keeps what the client needs to finish it. */
async function start(password: string, who: { identity: string; keys: KeyPair } = owner) {
  const { identity } = who;
  const client = opaque.client.startLogin({ password });
  const ke1 = hex(client.startLoginRequest);
  const started = await post(`identities/${identity}/start`, {
    ke1,
    ...(await proof(identity, vaultSigned.open(identity, ke1), who.keys.secretKey)),
  });
  expect(started.status).toBe(200);
  const done = opaque.client.finishLogin({
    clientLoginState: client.clientLoginState,
    loginResponse: b64(started.json.ke2!),
    password,
    keyStretching: FAST,
  });
  const body = done ? { login: started.json.login, ke3: hex(done.finishLoginRequest) } : undefined;
  return { started, body };
}

const finish = (body: unknown) => post(`identities/${owner.identity}/finish`, body);

beforeAll(async () => {
  await opaque.ready;
  test = await startTestRunner({ codeSink: (line) => codeLines.push(line) });
  const directory = new DirectoryClient({ server: test.runner.httpUrl, fetch: freshFetch });
  const keys = generateKeyPair();
  const identity = (await directory.createIdentity(keys)) as IdentityId;
  await directory.owner(identity, keys.secretKey).link('email', EMAIL);
  await directory
    .owner(identity, keys.secretKey)
    .confirm('email', /([0-9]{6})$/.exec(codeLines.at(-1)!)![1]!);
  owner = { identity, keys };
  const client = opaque.client.startRegistration({ password: PASSWORD });
  const request = hex(client.registrationRequest);
  const registered = await post(`identities/${identity}/register`, {
    request,
    ...(await proof(identity, vaultSigned.register(identity, request))),
  });
  const finished = opaque.client.finishRegistration({
    clientRegistrationState: client.clientRegistrationState,
    registrationResponse: b64(registered.json.response!),
    password: PASSWORD,
    keyStretching: FAST,
  });
  registration = {
    record: hex(finished.registrationRecord),
    credential: registered.json.credential!,
    wrapped: toHex(wrapVaultKey(Buffer.from(finished.exportKey, 'base64url'), identity, randomBytes(32))),
  };
});

afterAll(async () => {
  await test?.stop();
});

const RUNS = { numRuns: 12, endOnFailure: true } as const;

describe('vault properties', () => {
  it('never answers more attempts than tries left, also when N arrive at once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), async (tries, n) => {
        await storeVault(tries);
        const attempts = await Promise.all(Array.from({ length: n }, () => start(PASSWORD)));
        const real = attempts.filter((attempt) => attempt.body !== undefined);
        expect(real).toHaveLength(Math.min(tries, n));
        // All tries spent with nobody finishing yet: the vault is gone, or holds what is left.
        expect(await triesLeft()).toBe(n >= tries ? undefined : tries - n);
        // The real ones finish (each its own login); the vault is back at its tries.
        const finished = await Promise.all(real.map((attempt) => finish(attempt.body)));
        expect(finished.map((reply) => reply.status)).toEqual(real.map(() => 200));
        expect(await triesLeft()).toBe(tries);
      }),
      RUNS,
    );
  });

  it('counts wrong and right passwords alike before answering, at once: no more real logins than tries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 9 }),
        async (tries, rights) => {
          await storeVault(tries);
          await Promise.all(rights.map((right) => start(right ? PASSWORD : `wrong${Math.random()}`)));
          // White-box: each login holds a copy of the record it spent a try of, or is a decoy.
          const { Items = [] } = await test.clients.dynamo.send(
            new QueryCommand({
              TableName: test.runner.tables.vault,
              KeyConditionExpression: '#id = :id AND begins_with(#item, :login)',
              ExpressionAttributeNames: { '#id': A.identity, '#item': A.item },
              ExpressionAttributeValues: { ':id': owner.identity, ':login': 'login#' },
              ConsistentRead: true,
            }),
          );
          const real = Items.filter((item) => item[A.decoy] === undefined);
          expect(real).toHaveLength(Math.min(tries, rights.length));
          expect(Items).toHaveLength(rights.length);
        },
      ),
      RUNS,
    );
  });

  it('fails closed after a crash past the decrement: spent tries never come back', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        async (tries, crashes) => {
          await storeVault(tries);
          // What a crash right after the conditional write leaves: the try spent, maybe a login
          // without the server's state, and no answer.
          for (let i = 0; i < crashes; i++) {
            const record = await store().spendTry(owner.identity);
            if (record && i % 2 === 0) {
              await store().putLogin({
                identity: owner.identity,
                login: new Uint8Array(16).fill(i),
                record,
                expiresAt: Math.floor(Date.now() / 1000) + 60,
              });
              const replied = await finish({
                login: toHex(new Uint8Array(16).fill(i)),
                ke3: '00'.repeat(64),
              });
              expect(replied.status).toBe(403);
            }
          }
          expect(await triesLeft()).toBe(crashes >= tries ? undefined : tries - crashes);
          // The right password afterwards: only if a try was left, and then it restores all tries.
          const attempt = await start(PASSWORD);
          expect(attempt.body !== undefined).toBe(crashes < tries);
          if (attempt.body) expect((await finish(attempt.body)).status).toBe(200);
          expect(await triesLeft()).toBe(crashes < tries ? tries : undefined);
        },
      ),
      RUNS,
    );
  });

  it('never restores tries or releases the key again on a replayed finish, even at once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 }),
        async (tries, replays, wrongAfter) => {
          await storeVault(tries);
          const attempt = await start(PASSWORD);
          const first = await Promise.all(Array.from({ length: replays + 1 }, () => finish(attempt.body)));
          expect(first.filter((reply) => reply.status === 200)).toHaveLength(1);
          expect(first.filter((reply) => reply.status === 403)).toHaveLength(replays);
          expect(await triesLeft()).toBe(tries);
          for (let i = 0; i < wrongAfter; i++) await start(`wrong${i}`);
          const later = await Promise.all(Array.from({ length: replays }, () => finish(attempt.body)));
          expect(
            later.every((reply) => reply.status === 403 && reply.json.error === 'vault_login_failed'),
          ).toBe(true);
          expect(await triesLeft()).toBe(tries - wrongAfter);
        },
      ),
      RUNS,
    );
  });

  it('answers for an unknown, deleted or exhausted vault like for a known one', async () => {
    const directory = new DirectoryClient({ server: test.runner.httpUrl, fetch: freshFetch });
    const vault = new VaultClient({ server: test.runner.httpUrl, fetch: freshFetch });
    const strangerKeys = generateKeyPair();
    const stranger = { identity: await directory.createIdentity(strangerKeys), keys: strangerKeys };
    const shape = (reply: VaultReply) => ({
      status: reply.status,
      fields: Object.keys(reply.json).sort(),
      sizes: Object.values(reply.json).map((value) => value.length),
      bytes: reply.text.length,
    });
    await storeVault(3);
    const known = shape((await start('anything')).started);
    const knownCode = await vault.requestCode(owner.identity, 'email', EMAIL);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('none', 'deleted', 'exhausted', 'known'), async (state) => {
        if (state === 'known' || state === 'exhausted') await storeVault(1);
        if (state === 'exhausted') await start('wrong');
        if (state === 'deleted') {
          await storeVault(2);
          await post(`identities/${owner.identity}/delete`, {
            ...(await proof(owner.identity, vaultSigned.delete(owner.identity))),
          });
        }
        const who = state === 'none' ? stranger : owner;
        expect(shape((await start('anything', who)).started)).toEqual(known);
        const code = await vault.requestCode(who.identity, 'email', EMAIL);
        expect(code).toHaveLength(knownCode.length);
      }),
      { numRuns: 8 },
    );
  });
});
