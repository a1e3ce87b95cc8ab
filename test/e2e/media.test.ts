/**
 * End-to-end encrypted media through the local runner: the SDK encrypts and uploads with the
 * presigned POST the blob route grants, the recipient downloads through a presigned GET, verifies
 * and reports "done", and the blob is gone. The runner's media proxy stands in for what S3 enforces
 * (the POST policy, signatures, expiry); these tests hold it to that.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Messenger, type ReceivedFile } from '../../client/chat/messenger.ts';
import type { ChatSession } from '../../client/chat/session.ts';
import {
  BlobVerificationError,
  downloadBytes,
  finishDownload,
  uploadFile,
} from '../../client/media/client.ts';
import { blobSize } from '../../client/media/format.ts';
import { BLOBS } from '../../contract/schema.ts';
import { blobObjectKey } from '../../lambdas/adapters/blob-storage.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lambdas/runtime/clients.ts';
import { sweepExpiredBlobs } from '../../local/sweeper.ts';
import { b64 } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import type { BlobId } from '../../protocol/media.ts';
import { newSession, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';

const MAX_BLOB = 300_000;
const QUOTA = 700_000;

let harness: TestRunner;
beforeAll(async () => {
  harness = await startTestRunner({ media: { maxBlobBytes: MAX_BLOB, quotaBytes: QUOTA } });
});
afterAll(() => harness?.stop());

const sessions: ChatSession[] = [];
afterAll(() => Promise.all(sessions.map((session) => session.close())));

async function online(who: TestIdentity): Promise<ChatSession> {
  const { session } = newSession(harness.runner, who);
  sessions.push(session);
  await session.connect();
  return session;
}

/** Raw blob requests, as any client could send them. */
function ask(session: ChatSession, action: string, payload: Record<string, unknown>) {
  return session.request(
    action,
    { id: b64(randomBytes(8)), ...payload },
    { reply: 'blob', error: 'blobError' },
  );
}

async function objectExists(blob: string): Promise<boolean> {
  try {
    await harness.clients.s3.send(
      new HeadObjectCommand({ Bucket: harness.runner.mediaBucket, Key: blobObjectKey(blob as BlobId) }),
    );
    return true;
  } catch {
    return false;
  }
}

async function recordExists(blob: string): Promise<boolean> {
  const found = await harness.clients.dynamo.send(
    new GetCommand({ TableName: harness.runner.tables.blobs, Key: { [BLOBS.attributes.key]: `b#${blob}` } }),
  );
  return found.Item !== undefined;
}

/** POSTs `file` with a grant's policy fields (optionally changed), as a browser form would. */
async function postForm(url: string, fields: Record<string, string>, file: Uint8Array): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([Buffer.from(file)]), 'blob');
  return fetch(url, { method: 'POST', body: form });
}

describe('media blobs through the runner (SDK)', () => {
  it('uploads, sends, downloads, verifies, and deletes the blob once the recipient is done', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const a = await online(alice);
    const file = randomBytes(200_000);
    const progress: number[] = [];
    const attachment = await uploadFile(a, {
      to: bob.id,
      // A stream of odd-sized pieces: the SDK re-chunks it.
      source: (async function* () {
        for (let at = 0; at < file.length; at += 7_777) yield file.subarray(at, at + 7_777);
      })(),
      size: file.length,
      mediaType: 'image/png',
      name: 'cat.png',
      onProgress: (done) => progress.push(done),
    });
    expect(progress.at(-1)).toBe(blobSize(file.length));
    expect(await objectExists(attachment.blob)).toBe(true);
    // The server stored ciphertext of exactly the declared size, not the file.
    const stored = await harness.clients.s3.send(
      new GetObjectCommand({ Bucket: harness.runner.mediaBucket, Key: blobObjectKey(attachment.blob) }),
    );
    const storedBytes = await stored.Body!.transformToByteArray();
    expect(storedBytes.length).toBe(blobSize(file.length));
    expect(Buffer.from(storedBytes).includes(Buffer.from(file.subarray(0, 64)))).toBe(false);

    const sender = new Messenger(a);
    await sender.sendAttachment(bob.id, attachment).acked;

    const b = newSession(harness.runner, bob).session;
    sessions.push(b);
    const receiver = new Messenger(b);
    const got: Uint8Array[] = [];
    const files: ReceivedFile[] = [];
    receiver.onFile = async (received) => {
      files.push(received);
      got.push(await downloadBytes(b, received.attachment));
      expect(await finishDownload(b, received.attachment.blob)).toBe(true);
    };
    await b.connect();
    await eventually(() => got.length === 1);
    expect(files[0]!.attachment).toMatchObject({
      mediaType: 'image/png',
      name: 'cat.png',
      size: file.length,
    });
    expect(Buffer.from(got[0]!).equals(Buffer.from(file))).toBe(true);
    expect(await objectExists(attachment.blob)).toBe(false);
    expect(await recordExists(attachment.blob)).toBe(false);
    // Gone for good: another download is refused.
    await expect(downloadBytes(b, attachment)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('deletes a blob for two recipients only when both are done', async () => {
    const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => registerIdentity(harness.runner)));
    const [a, b, c] = await Promise.all([alice!, bob!, carol!].map(online));
    const file = randomBytes(70_000);
    const attachment = await uploadFile(a!, { to: [bob!.id, carol!.id], source: file, size: file.length });
    expect(await downloadBytes(b!, attachment)).toEqual(file);
    expect(await finishDownload(b!, attachment.blob)).toBe(false);
    // Bob is done: he cannot fetch it again, Carol still can.
    await expect(downloadBytes(b!, attachment)).rejects.toMatchObject({ code: 'not_found' });
    expect(await objectExists(attachment.blob)).toBe(true);
    expect(await downloadBytes(c!, attachment)).toEqual(file);
    expect(await finishDownload(c!, attachment.blob)).toBe(true);
    expect(await objectExists(attachment.blob)).toBe(false);
  });

  it('refuses a download, and a "done", from anyone the blob was not sent to', async () => {
    const [alice, bob, mallory] = await Promise.all([1, 2, 3].map(() => registerIdentity(harness.runner)));
    const [a, m] = await Promise.all([alice!, mallory!].map(online));
    const attachment = await uploadFile(a!, { to: bob!.id, source: randomBytes(10), size: 10 });
    await expect(ask(m!, 'blobDownload', { blob: attachment.blob })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await ask(m!, 'blobDone', { blob: attachment.blob })).toMatchObject({ deleted: false });
    expect(await objectExists(attachment.blob)).toBe(true);
    // An unknown id reads exactly like someone else's.
    await expect(ask(m!, 'blobDownload', { blob: '0'.repeat(32) })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('lets S3 (here the runner) refuse an upload of any size but the declared one, storing nothing', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const a = await online(alice);
    for (const [declared, sent, code] of [
      [1000, 1001, 'EntityTooLarge'],
      [1000, 999, 'EntityTooSmall'],
    ] as const) {
      const grant = await ask(a, 'blobUpload', { size: declared, to: [bob.id] });
      const response = await postForm(
        String(grant.url),
        grant.fields as Record<string, string>,
        randomBytes(sent),
      );
      expect(response.status).toBe(400);
      expect(await response.text()).toContain(`<Code>${code}</Code>`);
      expect(await objectExists(String(grant.blob))).toBe(false);
      await ask(a, 'blobDone', { blob: grant.blob });
    }
    // The route itself refuses a declaration over the deployment's limit.
    await expect(ask(a, 'blobUpload', { size: MAX_BLOB + 1, to: [bob.id] })).rejects.toMatchObject({
      code: 'too_large',
    });
  });

  it("cannot overwrite someone else's blob: a policy is good for its own key only", async () => {
    const [alice, bob, mallory] = await Promise.all([1, 2, 3].map(() => registerIdentity(harness.runner)));
    const [a, m] = await Promise.all([alice!, mallory!].map(online));
    const file = randomBytes(5_000);
    const attachment = await uploadFile(a!, { to: bob!.id, source: file, size: file.length });
    const before = await harness.clients.s3.send(
      new GetObjectCommand({ Bucket: harness.runner.mediaBucket, Key: blobObjectKey(attachment.blob) }),
    );
    const original = await before.Body!.transformToByteArray();

    const grant = await ask(m!, 'blobUpload', { size: original.length, to: [bob!.id] });
    const fields = grant.fields as Record<string, string>;
    const forged = randomBytes(original.length);
    // Her own policy with Alice's key in the form.
    const moved = await postForm(
      String(grant.url),
      { ...fields, key: blobObjectKey(attachment.blob) },
      forged,
    );
    expect(moved.status).toBe(403);
    // No policy at all, or an unsigned PUT.
    const { Policy: _policy, ...unsigned } = fields;
    expect(
      (await postForm(String(grant.url), { ...unsigned, key: blobObjectKey(attachment.blob) }, forged))
        .status,
    ).toBe(403);
    const put = await fetch(`${grant.url}/${blobObjectKey(attachment.blob)}`, {
      method: 'PUT',
      body: Buffer.from(forged),
    });
    expect(put.status).toBe(403);

    const after = await harness.clients.s3.send(
      new GetObjectCommand({ Bucket: harness.runner.mediaBucket, Key: blobObjectKey(attachment.blob) }),
    );
    expect(await after.Body!.transformToByteArray()).toEqual(original);
  });

  it('offers no listing and no unsigned or altered download', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const [a, b] = [await online(alice), await online(bob)];
    const attachment = await uploadFile(a, { to: bob.id, source: randomBytes(100), size: 100 });
    const bucketUrl = `${harness.runner.httpUrl}${harness.runner.mediaBucket}`;
    for (const url of [
      bucketUrl,
      `${bucketUrl}/`,
      `${bucketUrl}?list-type=2`,
      `${bucketUrl}/${blobObjectKey(attachment.blob)}`,
    ])
      expect((await fetch(url)).status).toBe(403);
    const grant = await ask(b, 'blobDownload', { blob: attachment.blob });
    const url = new URL(String(grant.url));
    expect((await fetch(url)).status).toBe(200);
    // Another object with the same signature, or a longer validity.
    const other = new URL(url);
    other.pathname = other.pathname.replace(/[0-9a-f]{32}$/, '0'.repeat(32));
    expect((await fetch(other)).status).toBe(403);
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '604800');
    expect((await fetch(longer)).status).toBe(403);
  });

  it('refuses a tampered or truncated blob before handing anything over', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const [a, b] = [await online(alice), await online(bob)];
    const file = randomBytes(150_000);
    const key = (blob: string) => ({
      Bucket: harness.runner.mediaBucket,
      Key: blobObjectKey(blob as BlobId),
    });
    const cases: Array<[string, (blob: Uint8Array) => Uint8Array]> = [
      ['tampered', (blob) => blob.map((byte, index) => (index === 70_000 ? byte ^ 1 : byte))],
      ['truncated', (blob) => blob.subarray(0, 65_536 + 16)],
      ['truncated', (blob) => blob.subarray(0, blob.length - 1)],
    ];
    for (const [reason, damage] of cases) {
      const attachment = await uploadFile(a, { to: bob.id, source: file, size: file.length });
      const object = await harness.clients.s3.send(new GetObjectCommand(key(attachment.blob)));
      const damaged = damage(await object.Body!.transformToByteArray());
      await harness.clients.s3.send(new PutObjectCommand({ ...key(attachment.blob), Body: damaged }));
      const error = await downloadBytes(b, attachment).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(BlobVerificationError);
      expect((error as BlobVerificationError).reason).toBe(reason);
    }
    // A right blob with another attachment's hash is refused too.
    const attachment = await uploadFile(a, { to: bob.id, source: file, size: file.length });
    const error = await downloadBytes(b, { ...attachment, hash: new Uint8Array(32) }).catch(
      (e: unknown) => e,
    );
    expect((error as BlobVerificationError).reason).toBe('hash_mismatch');
  });

  it('charges the quota to the uploader only, who can always free it by cancelling', async () => {
    const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => registerIdentity(harness.runner)));
    const [a, c] = await Promise.all([alice!, carol!].map(online));
    const big = { size: MAX_BLOB, to: [bob!.id] };
    // Carol fills her own quota with uploads "for" Bob and Alice.
    await ask(c!, 'blobUpload', big);
    await ask(c!, 'blobUpload', { ...big, to: [alice!.id] });
    await expect(ask(c!, 'blobUpload', big)).rejects.toMatchObject({ code: 'quota_exceeded' });
    // Alice's room is untouched.
    const first = await ask(a!, 'blobUpload', big);
    await ask(a!, 'blobUpload', big);
    await expect(ask(a!, 'blobUpload', big)).rejects.toMatchObject({ code: 'quota_exceeded' });
    // Cancelling one of her own frees its room at once.
    expect(await finishDownload(a!, first.blob as BlobId)).toBe(true);
    await ask(a!, 'blobUpload', big);
  });

  it('expires blobs: the download check at once, the lifecycle stand-in later', async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const [a, b] = [await online(alice), await online(bob)];
    const attachment = await uploadFile(a, { to: bob.id, source: randomBytes(10), size: 10 });
    // The record says it expired (TTL has not deleted it yet): refused at once, object or not.
    const expired = await uploadFile(a, { to: bob.id, source: randomBytes(10), size: 10 });
    await harness.clients.dynamo.send(
      new UpdateCommand({
        TableName: harness.runner.tables.blobs,
        Key: { [BLOBS.attributes.key]: `b#${expired.blob}` },
        UpdateExpression: 'SET #e = :past',
        ExpressionAttributeNames: { '#e': BLOBS.attributes.expiresAt },
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    expect(await objectExists(expired.blob)).toBe(true);
    await expect(downloadBytes(b, expired)).rejects.toMatchObject({ code: 'not_found' });
    // A presigned URL past its own expiry is refused by the storage (here the runner's proxy).
    const signer = new S3Client({
      endpoint: harness.runner.httpUrl.replace(/\/$/, ''),
      forcePathStyle: true,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const shortLived = await getSignedUrl(
      signer,
      new GetObjectCommand({ Bucket: harness.runner.mediaBucket, Key: blobObjectKey(attachment.blob) }),
      { expiresIn: 1 },
    );
    signer.destroy();
    expect((await fetch(shortLived)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const late = await fetch(shortLived);
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Request has expired');
    const targets = {
      dynamo: harness.clients.dynamo,
      s3: harness.clients.s3,
      tableName: (table: keyof typeof harness.runner.tables) => harness.runner.tables[table],
      bucket: harness.runner.safeBucket,
      retentionDays: 180,
      mediaBucket: harness.runner.mediaBucket,
      mediaTtlDays: 14,
    };
    expect(await sweepExpiredBlobs({ ...targets, now: () => Date.now() + 13 * 86_400_000 })).toBe(0);
    expect(await objectExists(attachment.blob)).toBe(true);
    expect(await sweepExpiredBlobs({ ...targets, now: () => Date.now() + 15 * 86_400_000 })).toBeGreaterThan(
      0,
    );
    expect(await objectExists(attachment.blob)).toBe(false);
  });

  it('writes no blob id, identity or URL into any log line', async () => {
    const lines = harness.logLines.join('\n');
    expect(harness.logLines.some((line) => line.includes('blobUpload'))).toBe(true);
    expect(lines).not.toMatch(/[0-9a-f]{32}/);
    expect(lines).not.toMatch(/X-Amz-|Policy|\/blobs\//i);
    for (const line of harness.logLines) expect(line).not.toMatch(/"[0-9A-Z]{8}"/);
  });
});
