/**
 * `directory`: identities, challenges and rate windows (ephemeral), the mailbox purge and closing of
 * sessions on revocation and deletion, and verification codes when the deployment sends them.
 */
import middy from '@middy/core';
import { LIMITS } from '../../../protocol/limits.ts';
import type { CodeTransport } from '../../adapters/codes.ts';
import { dynamoSessionStore } from '../../adapters/connections.ts';
import { dynamoEphemeralStore } from '../../adapters/ephemeral.ts';
import { dynamoIdentityStore } from '../../adapters/identities.ts';
import { dynamoMailboxPurger } from '../../adapters/mailbox.ts';
import { connectionsPusher } from '../../adapters/push.ts';
import { dynamoPushTargetStore } from '../../adapters/push-targets.ts';
import { epochSeconds } from '../../domain/clock.ts';
import { type CodeSender, createDirectory } from '../../domain/directory.ts';
import { createPushTargets } from '../../domain/wakeups.ts';
import { makeDirectoryHandler } from '../../handlers/directory.ts';
import type { RuntimeConfig } from '../env.ts';
import { httpStack } from '../middlewares.ts';
import {
  type Base,
  codeSenderFor,
  type DynamoClients,
  type ManagementClient,
  managementEndpoint,
  tableName,
} from './shared.ts';

export interface DirectoryClients extends DynamoClients, ManagementClient {
  readonly codes: CodeTransport;
}

/**
 * `codes` replaces the deployment's code delivery (the local runner prints codes); without it, SES
 * and SNS as `config.verificationCodes` says, or off.
 */
export function composeDirectory(
  config: RuntimeConfig,
  clients: DirectoryClients,
  base: Base & { readonly codes?: CodeSender },
) {
  const { clock } = base;
  const sessions = dynamoSessionStore(clients.dynamo, tableName(config, 'connections'));
  const pusher = connectionsPusher(clients.management(managementEndpoint(config)));
  const mailbox = dynamoMailboxPurger(clients.dynamo, tableName(config, 'mailbox'));
  const directory = createDirectory({
    identities: dynamoIdentityStore(clients.dynamo, tableName(config, 'identities')),
    ephemeral: dynamoEphemeralStore(clients.dynamo, tableName(config, 'ephemeral'), () =>
      epochSeconds(clock.now()),
    ),
    mailbox,
    sessions: {
      async closeAll(connectionIds) {
        await Promise.all(
          connectionIds.map(async (connectionId) => {
            await pusher.disconnect(connectionId);
            await sessions.remove(connectionId);
          }),
        );
      },
    },
    codes: codeSenderFor(config, clients.codes, base.codes),
    clock,
    random: base.random,
    registration: config.registrationPolicy,
    pushTargets: createPushTargets({
      targets: dynamoPushTargetStore({ dynamo: clients.dynamo, name: tableName(config, 'mailbox') }),
      kinds: [],
    }),
  });
  return Object.assign(
    middy(makeDirectoryHandler({ directory })).use(httpStack(base, LIMITS.directoryBodyBytes)),
    {
      directory,
    },
  );
}
