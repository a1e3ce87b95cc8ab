/**
 * A CloudFormation custom resource that reports the server's public key, so the stack can output
 * the key clients pin. It reads the server key secret, derives the public key (the public half
 * only ever leaves) and answers CloudFormation's pre-signed response URL.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { toHex } from '../../protocol/bytes.ts';
import { keyPairFromSecret } from '../../protocol/crypto.ts';

export interface PublicKeyDeps {
  readonly readServerKey: (secretArn: string) => Promise<Uint8Array>;
  readonly respond: (url: string, body: string) => Promise<void>;
}

export function makeServerPublicKeyHandler(deps: PublicKeyDeps) {
  return async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    const base = {
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      PhysicalResourceId: 'server-public-key',
    };
    let body: Record<string, unknown>;
    try {
      if (event.RequestType === 'Delete') {
        body = { ...base, Status: 'SUCCESS' };
      } else {
        const secretArn = String(event.ResourceProperties.SecretArn);
        const publicKey = toHex(keyPairFromSecret(await deps.readServerKey(secretArn)).publicKey);
        body = { ...base, Status: 'SUCCESS', Data: { PublicKey: publicKey } };
      }
    } catch {
      // The reason reaches CloudFormation's event log: no secret material, no ARN.
      body = { ...base, Status: 'FAILED', Reason: 'Could not read the server key secret' };
    }
    await deps.respond(event.ResponseURL, JSON.stringify(body));
  };
}
