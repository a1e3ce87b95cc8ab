/** The login deadline: connections that never log in are closed by the scheduled reaper. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONNECTIONS } from '../../contract/schema.ts';
import { dynamoConnectionStore, dynamoSessionStore } from '../../lambdas/adapters/connections.ts';
import { dynamoIdentityStore } from '../../lambdas/adapters/identities.ts';
import { dynamoMailboxStore } from '../../lambdas/adapters/mailbox.ts';
import { createChat } from '../../lambdas/domain/chat.ts';
import { systemRandom } from '../../lambdas/domain/clock.ts';
import { newConnectionRecord } from '../../lambdas/domain/connections.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { freshResources, type TestResources } from '../support/aws.ts';

let resources: TestResources;

beforeAll(async () => {
  resources = await freshResources();
});

describe('login-deadline reaper', () => {
  it('closes and forgets connections that did not log in in time, and only those', async () => {
    const { dynamo } = resources.clients;
    const table = resources.tables.connections;
    const now = Date.now();
    const late = now - (LIMITS.loginTimeoutSeconds + 5) * 1000;
    const connections = dynamoConnectionStore(dynamo, table);
    const sessions = dynamoSessionStore(dynamo, table);
    await connections.open(newConnectionRecord('late-no-login', late));
    await connections.open(newConnectionRecord('fresh', now - 1000));
    await connections.open(newConnectionRecord('late-but-logged-in', late));
    await sessions.beginHandshake('late-but-logged-in', {
      serverTempSecret: new Uint8Array(32),
      clientTempPublic: new Uint8Array(32),
      serverCookie: new Uint8Array(16),
    });
    expect(
      await sessions.completeLogin('late-but-logged-in', 'ABCD1234' as IdentityId, new Uint8Array(32)),
    ).toBe(true);

    const disconnected: string[] = [];
    const chat = createChat({
      sessions,
      mailbox: dynamoMailboxStore(dynamo, resources.tables.mailbox),
      identities: dynamoIdentityStore(dynamo, resources.tables.identities),
      rates: { consume: async () => true },
      // The @connections API, not the database: a recording stand-in is enough to see the calls.
      pusher: { push: async () => 'sent', disconnect: async (id) => void disconnected.push(id) },
      serverKey: async () => generateKeyPair(),
      clock: { now: () => now },
      random: systemRandom,
      messageTtlDays: 14,
    });

    expect(await chat.reapUnauthenticated()).toBe(1);
    expect(disconnected).toEqual(['late-no-login']);
    const get = (id: string) =>
      dynamo.send(new GetCommand({ TableName: table, Key: { [CONNECTIONS.attributes.connectionId]: id } }));
    expect((await get('late-no-login')).Item).toBeUndefined();
    expect((await get('fresh')).Item).toBeDefined();
    expect((await get('late-but-logged-in')).Item?.[CONNECTIONS.attributes.state]).toBe('ready');
    expect(await chat.reapUnauthenticated()).toBe(0);
  });
});
