import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeServerPublicKeyHandler } from '../../lambdas/handlers/server-public-key.ts';
import { toHex } from '../../protocol/bytes.ts';
import { generateKeyPair } from '../../protocol/crypto.ts';

const ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:ServerKey-AbCdEf';

function event(type: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'token',
    ResponseURL: 'https://cloudformation-response.example/presigned',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'ServerPublicKey',
    ResourceType: 'Custom::SwitchyardServerPublicKey',
    ResourceProperties: { ServiceToken: 'token', SecretArn: ARN },
    ...(type === 'Create' ? {} : { PhysicalResourceId: 'server-public-key' }),
    ...(type === 'Update' ? { OldResourceProperties: {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

describe('server-public-key custom resource', () => {
  it('answers CloudFormation with the public half of the key only', async () => {
    const pair = generateKeyPair();
    const responses: Array<{ url: string; body: Record<string, unknown> }> = [];
    const handler = makeServerPublicKeyHandler({
      readServerKey: async (arn) => {
        expect(arn).toBe(ARN);
        return pair.secretKey;
      },
      respond: async (url, body) => void responses.push({ url, body: JSON.parse(body) }),
    });
    for (const type of ['Create', 'Update'] as const) await handler(event(type));
    expect(responses.map((r) => r.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(responses[0]!.body.Data).toEqual({ PublicKey: toHex(pair.publicKey) });
    expect(JSON.stringify(responses)).not.toContain(toHex(pair.secretKey));
    expect(responses[0]!.url).toBe('https://cloudformation-response.example/presigned');
  });

  it('succeeds on delete without reading the secret, and reports a failed read without details', async () => {
    const responses: Array<Record<string, unknown>> = [];
    const handler = makeServerPublicKeyHandler({
      readServerKey: async () => {
        throw new Error(`AccessDenied on ${ARN}`);
      },
      respond: async (_url, body) => void responses.push(JSON.parse(body)),
    });
    await handler(event('Delete'));
    await handler(event('Create'));
    expect(responses.map((r) => r.Status)).toEqual(['SUCCESS', 'FAILED']);
    expect(JSON.stringify(responses[1])).not.toContain(ARN);
  });
});
