/** Restoring the directory from a restored table: `switchyard-ops identities restore` on DynamoDB Local. */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dynamoIdentityStore, restoreMissingIdentities } from '../../lambdas/adapters/identities.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import type { IdentityId, PublicKey } from '../../protocol/identity.ts';
import { freshResources, type TestResources } from '../support/aws.ts';
import { runOpsCli } from '../support/cli.ts';

let backup: TestResources;
let live: TestResources;

const id = (n: number) => `RESTOR0${n}` as IdentityId;
const key = (n: number) => new Uint8Array(32).fill(n) as PublicKey;

async function items(resources: TestResources) {
  const scan = await resources.clients.dynamo.send(
    new ScanCommand({ TableName: resources.tables.identities, ConsistentRead: true }),
  );
  return new Map((scan.Items ?? []).map((item) => [String(item.identity), item]));
}

beforeAll(async () => {
  [backup, live] = await Promise.all([freshResources(), freshResources()]);
  const old = dynamoIdentityStore(backup.clients.dynamo, backup.tables.identities);
  const now = dynamoIdentityStore(live.clients.dynamo, live.tables.identities);
  // The backup: identities 1–3, all active.
  for (const n of [1, 2, 3]) {
    await old.create({
      identity: id(n),
      state: 'active',
      publicKey: key(n),
      featureMask: 0,
      issueDate: '2026-11-01',
    });
  }
  // Since then the live table lost identity 1, identity 2 was revoked and 4 was created.
  await now.create({
    identity: id(2),
    state: 'active',
    publicKey: key(2),
    featureMask: 0,
    issueDate: '2026-11-01',
  });
  await now.tombstone(id(2));
  await now.create({
    identity: id(3),
    state: 'active',
    publicKey: key(33),
    featureMask: 1,
    issueDate: '2026-11-01',
  });
  await now.create({
    identity: id(4),
    state: 'active',
    publicKey: key(4),
    featureMask: 0,
    issueDate: '2026-11-20',
  });
});

afterAll(() => {
  backup?.clients.destroy();
  live?.clients.destroy();
});

describe('restoring identities from a restored table', () => {
  it('copies back only what the live table lacks; the live state wins, tombstones included', async () => {
    const before = await items(live);
    expect(
      await restoreMissingIdentities(live.clients.dynamo, backup.tables.identities, live.tables.identities),
    ).toEqual({
      restored: 1,
      kept: 2,
    });
    const after = await items(live);
    expect([...after.keys()].sort()).toEqual([id(1), id(2), id(3), id(4)]);
    expect(after.get(id(1))).toEqual((await items(backup)).get(id(1)));
    // The revoked identity stays a bare tombstone, the changed one keeps its change, the new one stays.
    for (const n of [2, 3, 4]) expect(after.get(id(n))).toEqual(before.get(id(n)));
    const store = dynamoIdentityStore(live.clients.dynamo, live.tables.identities);
    expect((await store.get(id(1)))?.publicKey).toEqual(key(1));
    expect((await store.get(id(2)))?.state).toBe('revoked');

    // Again: nothing new to restore.
    expect(
      await restoreMissingIdentities(live.clients.dynamo, backup.tables.identities, live.tables.identities),
    ).toEqual({
      restored: 0,
      kept: 3,
    });
  });

  it('runs as `switchyard-ops identities restore` with the usual AWS configuration, printing counts only', async () => {
    const target = await freshResources();
    try {
      const run = await runOpsCli(
        ['identities', 'restore', '--from', backup.tables.identities, '--to', target.tables.identities],
        {
          env: {
            AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
            AWS_REGION: LOCAL_REGION,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          },
        },
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('restored 3 identities; kept 0 the live table already had\n');
      expect([...(await items(target)).keys()].sort()).toEqual([id(1), id(2), id(3)]);

      const same = await runOpsCli(['identities', 'restore', '--from', 'table-a', '--to', 'table-a']);
      expect(same.code).toBe(2);
      expect(same.stderr).toContain('two different DynamoDB table names');
    } finally {
      target.clients.destroy();
    }
  });
});
