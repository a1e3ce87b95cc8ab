import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONNECTIONS, PENDING_SHARDS } from '../../contract/schema.ts';
import { dynamoConnectionStore } from '../../lambdas/adapters/connections.ts';
import { newConnectionRecord } from '../../lambdas/domain/connections.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { freshResources, type TestResources } from '../support/aws.ts';

let resources: TestResources;

beforeAll(async () => {
  resources = await freshResources();
});

describe('connection store on DynamoDB Local', () => {
  it('opens and closes connection records', async () => {
    const store = dynamoConnectionStore(resources.clients.dynamo, resources.tables.connections);
    const record = newConnectionRecord('abc+/=', 1_700_000_000_000);
    await store.open(record);
    const key = { [CONNECTIONS.attributes.connectionId]: 'abc+/=' };
    const stored = await resources.clients.dynamo.send(
      new GetCommand({ TableName: resources.tables.connections, Key: key }),
    );
    expect(stored.Item).toEqual({
      connectionId: 'abc+/=',
      connectedAt: record.connectedAt,
      expiresAt: record.expiresAt,
      // Listed for the login-deadline reaper until it logs in.
      pending: expect.stringMatching(new RegExp(`^(${PENDING_SHARDS.join('|')})$`)),
    });
    await store.close('abc+/=');
    const gone = await resources.clients.dynamo.send(
      new GetCommand({ TableName: resources.tables.connections, Key: key }),
    );
    expect(gone.Item).toBeUndefined();
  });

  it('turns a database failure into a typed, identifier-free error', async () => {
    const store = dynamoConnectionStore(resources.clients.dynamo, 'no-such-table');
    const error = await store
      .open(newConnectionRecord('secret-connection-id', Date.now()))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect((error as SwitchyardError).code).toBe('unavailable');
    expect((error as SwitchyardError).message).not.toContain('secret-connection-id');
  });
});
