/**
 * Lambda entry of the server-public-key custom resource (lib/constructs/server-public-key.ts). A
 * middy handler like every other; it needs none of the route middlewares: it answers CloudFormation
 * itself, success or failure, and logs nothing.
 */
import middy from '@middy/core';
import { readServerKeySecret } from '../adapters/secrets.ts';
import { makeServerPublicKeyHandler } from '../handlers/server-public-key.ts';
import { createSecretReader } from '../runtime/sdk/secrets.ts';

const read = createSecretReader();

export const handler = middy(
  makeServerPublicKeyHandler({
    readServerKey: (secretArn) => readServerKeySecret(read, secretArn),
    respond: async (url, body) => {
      const response = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
      if (!response.ok) throw new Error(`CloudFormation response rejected: ${response.status}`);
    },
  }),
);
