/**
 * Raw vault requests for tests that go below the SDK: a POST under the runner's `/vault/`, and the
 * proof fields a request signed with the identity's key carries (as the SDK makes them); and the
 * vault record as the runner stored it.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { VAULT } from '../../contract/schema.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { answerChallenge } from '../../protocol/directory.ts';
import type { TestRunner } from './runner.ts';

/**
 * Every request on a fresh connection. The runner runs in the test's process, and the clients'
 * Argon2id (synchronous WebAssembly) blocks its event loop: a pooled keep-alive socket can then be
 * closed by the server's keep-alive timer just as a request goes out on it (ECONNRESET), a race of
 * this harness, not of the vault.
 */
export const freshFetch: typeof fetch = (input, init) =>
  fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), connection: 'close' } });

export interface VaultReply {
  readonly status: number;
  readonly json: Record<string, string>;
  /** The body as sent, for comparing answers byte for byte. */
  readonly text: string;
}

/** POST `vault/<path>` with a JSON body. */
export async function vaultPost(httpUrl: string, path: string, body: unknown): Promise<VaultReply> {
  const response = await freshFetch(new URL(`vault/${path}`, httpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, string>, text };
}

/** Proof fields for a raw request: a fresh challenge answered over `signed`. */
export async function vaultProof(
  httpUrl: string,
  identity: string,
  secretKey: Uint8Array,
  signed: Readonly<Record<string, unknown>>,
) {
  const { json } = await vaultPost(httpUrl, 'challenge', { identity });
  const answer = answerChallenge(
    secretKey,
    fromHex(json.temporaryPublicKey!)!,
    fromHex(json.token!)!,
    signed,
  );
  return { token: json.token, response: toHex(answer) };
}

/** Base64url (the OPAQUE library's encoding) and lowercase hex (the wire's) of the same bytes. */
export const b64 = (hex: string) => Buffer.from(fromHex(hex)!).toString('base64url');
export const hex = (b64url: string) => Buffer.from(b64url, 'base64url').toString('hex');

/** The identity's vault record in the runner's table (undefined: no vault). */
export async function vaultRecord(test: TestRunner, identity: string) {
  const result = await test.clients.dynamo.send(
    new GetCommand({
      TableName: test.runner.tables.vault,
      Key: { [VAULT.attributes.identity]: identity, [VAULT.attributes.item]: 'record' },
      ConsistentRead: true,
    }),
  );
  return result.Item;
}

/** The tries the identity's vault has left (undefined: no vault). */
export async function vaultTriesLeft(test: TestRunner, identity: string): Promise<number | undefined> {
  const item = await vaultRecord(test, identity);
  return item ? Number(item[VAULT.attributes.tries]) : undefined;
}
