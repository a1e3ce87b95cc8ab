/** `switchyard send --file` and `switchyard listen` saving the file, as real processes against the runner. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../client/cli/command.ts';
import { saveIdentityFile } from '../../client/keyfile.ts';
import { MEDIA_BUCKET } from '../../contract/schema.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { registerIdentity, type TestIdentity } from '../support/chat.ts';
import { startProcess } from '../support/process.ts';
import { startTestRunner, type TestRunner } from '../support/runner.ts';

let harness: TestRunner;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-media-cli-'));
  harness = await startTestRunner({ media: { maxBlobBytes: 3 * 1024 * 1024 } });
});

afterAll(async () => {
  await harness?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function identityFile(who: TestIdentity, name: string): Promise<string> {
  const path = join(dir, `${name}.json`);
  await saveIdentityFile(path, { identity: who.id as never, keys: who.keys });
  return path;
}

function cli(args: string[]) {
  return startProcess(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'client/cli/bin.ts', ...args], {
    ...process.env,
    SWITCHYARD_SERVER: harness.runner.httpUrl,
    SWITCHYARD_SERVER_KEY: harness.runner.serverPublicKey,
  });
}

describe('switchyard send --file / listen', () => {
  it('sends a file that listen saves, verified, and the server then forgets', {
    timeout: 180_000,
  }, async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const [aliceFile, bobFile] = [await identityFile(alice, 'alice'), await identityFile(bob, 'bob')];
    const content = randomBytes(2 * 1024 * 1024 + 3);
    const path = join(dir, 'holiday.png');
    writeFileSync(path, content);

    const send = cli(['send', bob.id, '--file', path, '--identity-file', aliceFile]);
    expect(await send.exited).toBe(EXIT.ok);
    expect(send.output()).toContain('sent: file');
    // A long transfer reports its progress.
    expect(send.output()).toMatch(/uploading 100%/);

    const inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    writeFileSync(join(inbox, 'holiday.png'), 'an older file of the same name');
    const listen = cli(['listen', '--count', '1', '--json', '--save-dir', inbox, '--identity-file', bobFile]);
    expect(await listen.exited).toBe(EXIT.ok);
    const line = JSON.parse(listen.output().trim().split('\n').at(-1)!);
    expect(line).toMatchObject({
      sender: alice.id,
      file: { name: 'holiday.png', mediaType: 'image/png', size: content.length },
    });
    // Never overwritten: the new file gets its own name; no .part left behind.
    expect(line.file.path).toBe(join(inbox, 'holiday (1).png'));
    expect(Buffer.from(readFileSync(line.file.path)).equals(Buffer.from(content))).toBe(true);
    expect(readFileSync(join(inbox, 'holiday.png'), 'utf8')).toBe('an older file of the same name');
    expect(readdirSync(inbox).sort()).toEqual(['holiday (1).png', 'holiday.png']);
    // listen reported "done": the blob is gone from the bucket.
    const listed = await harness.clients.s3.send(
      new ListObjectsV2Command({ Bucket: harness.runner.mediaBucket, Prefix: MEDIA_BUCKET.blobPrefix }),
    );
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('refuses a file over the server limit with exit code 6, sending nothing', {
    timeout: 120_000,
  }, async () => {
    const [alice, bob] = [await registerIdentity(harness.runner), await registerIdentity(harness.runner)];
    const aliceFile = await identityFile(alice, 'alice2');
    const path = join(dir, 'big.bin');
    writeFileSync(path, new Uint8Array(3 * 1024 * 1024 + 1));
    const send = cli(['send', bob.id, '--file', path, '--identity-file', aliceFile]);
    expect(await send.exited).toBe(EXIT.tooLarge);
    expect(send.output()).toContain('larger than this server accepts');
    expect(existsSync(path)).toBe(true);
  });
});
