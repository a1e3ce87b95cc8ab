/**
 * Media benchmark (P8): upload + download of one 10 MiB blob (a) the way clients do it — the
 * `blobUpload` / `blobDownload` session frames, then a presigned POST and a presigned GET through
 * the runner's media proxy (which checks the policy and signature as S3 would) to s3rver — and
 * (b) the same two requests from the same client (fetch) straight to s3rver, unsigned.
 * Interleaved rounds in one process. Also what the functions carried per blob: the bytes of the
 * events and answers of the blob routes (JSON frames), and whether any function called S3's
 * PutObject or GetObject (the blob's bytes through a function).
 *
 * Client-side encryption is not part of the ratio (it is the same work whatever the transport);
 * its throughput is reported beside it.
 */
import { randomBytes } from 'node:crypto';
import { ChatSession } from '../client/chat/session.ts';
import { DirectoryClient } from '../client/directory/client.ts';
import { blobSize, decryptBlob, encryptBlob } from '../client/media/format.ts';
import { MEDIA_BUCKET } from '../contract/schema.ts';
import { fromHex } from '../protocol/bytes.ts';
import { b64 } from '../protocol/chat.ts';
import { generateKeyPair } from '../protocol/crypto.ts';
import { BLOB_ACTIONS } from '../protocol/media.ts';
import { startBenchRunner } from './instrument.ts';
import {
  type BenchReport,
  fixed,
  loadAverage,
  machine,
  markdownTable,
  type Stats,
  stats,
} from './support.ts';

export const TARGET_RATIO = 0.9;
export const BLOB_BYTES = 10 * 1024 * 1024;

export interface MediaBenchResult {
  readonly rounds: number;
  readonly pairsPerRound: number;
  /** Upload + download pairs per second, per round: the bytes' path only (POST + GET vs Put + Get). */
  readonly runner: Stats;
  readonly direct: Stats;
  readonly ratio: number;
  /** The same with the three session requests per blob (grant, download URL, done) counted in. */
  readonly runnerWhole: Stats;
  readonly wholeRatio: number;
  /** Per blob, JSON bytes in the blob routes' events and answers (frames, not blob bytes). */
  readonly functionFrameBytes: number;
  /** S3 PutObject/GetObject calls any function made during the runner rounds (blob bytes through a function). */
  readonly functionObjectCalls: number;
  /** Client-side encryption and decryption of the 10 MiB file, MiB/s (median of the rounds). */
  readonly encryptMiBs: number;
  readonly decryptMiBs: number;
  readonly load: readonly [number, number];
}

export async function runMediaBench(options: { quick: boolean }): Promise<MediaBenchResult> {
  const loadAtStart = loadAverage();
  const rounds = options.quick ? 3 : 7;
  const pairsPerRound = options.quick ? 2 : 5;
  let objectCalls = 0;
  let counting = false;
  const frameBytes: number[] = [];
  const { runner, stop } = await startBenchRunner('media', {
    sweepIntervalMs: 0,
    media: { quotaBytes: 4 * 1024 * 1024 * 1024 },
    logSink: (line) => {
      const fields = JSON.parse(line) as { route?: string; bytesIn?: number; bytesOut?: number };
      if (counting && (BLOB_ACTIONS as readonly string[]).includes(fields.route ?? ''))
        frameBytes.push((fields.bytesIn ?? 0) + (fields.bytesOut ?? 0));
    },
    onRequest: (service, operation) => {
      if (counting && service === 'S3' && (operation === 'PutObject' || operation === 'GetObject'))
        objectCalls++;
      return undefined;
    },
  });
  const keys = generateKeyPair();
  const directory = new DirectoryClient({ server: runner.httpUrl });
  const identity = await directory.createIdentity(keys);
  const session = new ChatSession({
    url: runner.wsUrl,
    serverPublicKey: fromHex(runner.serverPublicKey)!,
    identity,
    keys,
    publicKeyOf: async () => keys.publicKey,
    reconnect: false,
  });
  session.onMessage = () => true;
  await session.connect();
  const blob = new Uint8Array(randomBytes(BLOB_BYTES));
  const answers = { reply: 'blob', error: 'blobError' } as const;
  const requestId = () => b64(new Uint8Array(randomBytes(8)));
  try {
    /** One blob the clients' way; returns [ms moving bytes (POST + GET), ms in session requests]. */
    const viaRunner = async (): Promise<[number, number]> => {
      let started = performance.now();
      const grant = await session.request(
        'blobUpload',
        { id: requestId(), size: BLOB_BYTES, to: [identity] },
        answers,
      );
      let control = performance.now() - started;
      started = performance.now();
      const form = new FormData();
      for (const [name, value] of Object.entries(grant.fields as Record<string, string>))
        form.append(name, value);
      form.append('file', new Blob([blob]), 'blob');
      const posted = await fetch(String(grant.url), { method: 'POST', body: form });
      await posted.arrayBuffer();
      if (posted.status !== 204) throw new Error(`presigned POST answered ${posted.status}`);
      let transfer = performance.now() - started;
      started = performance.now();
      const download = await session.request('blobDownload', { id: requestId(), blob: grant.blob }, answers);
      control += performance.now() - started;
      started = performance.now();
      const got = await fetch(String(download.url));
      const bytes = await got.arrayBuffer();
      if (got.status !== 200 || bytes.byteLength !== BLOB_BYTES)
        throw new Error(`presigned GET answered ${got.status}`);
      transfer += performance.now() - started;
      started = performance.now();
      await session.request('blobDone', { id: requestId(), blob: grant.blob }, answers);
      control += performance.now() - started;
      return [transfer, control];
    };
    /** The same requests from the same client (fetch), straight to s3rver: a POST form and a GET. */
    const direct = async (): Promise<void> => {
      const key = `${MEDIA_BUCKET.blobPrefix}${randomBytes(16).toString('hex')}`;
      const form = new FormData();
      form.append('key', key);
      form.append('file', new Blob([blob]), 'blob');
      const bucketUrl = `${runner.endpoints.s3}/${runner.mediaBucket}`;
      const posted = await fetch(bucketUrl, { method: 'POST', body: form });
      await posted.arrayBuffer();
      if (posted.status !== 204) throw new Error(`direct POST answered ${posted.status}`);
      const got = await fetch(`${bucketUrl}/${key}`);
      const bytes = await got.arrayBuffer();
      if (got.status !== 200 || bytes.byteLength !== BLOB_BYTES)
        throw new Error('direct GET returned the wrong size');
    };
    const round = async (op: () => Promise<void>): Promise<number> => {
      const started = performance.now();
      for (let i = 0; i < pairsPerRound; i++) await op();
      return pairsPerRound / ((performance.now() - started) / 1000);
    };
    /** A round of the runner path: [pairs/s of the bytes' path, pairs/s with the session requests]. */
    const runnerRound = async (): Promise<[number, number]> => {
      let transfer = 0;
      let control = 0;
      for (let i = 0; i < pairsPerRound; i++) {
        const [t, c] = await viaRunner();
        transfer += t;
        control += c;
      }
      return [pairsPerRound / (transfer / 1000), pairsPerRound / ((transfer + control) / 1000)];
    };
    for (let i = 0; i < 2; i++) {
      await viaRunner();
      await direct();
    }
    const runnerRates: number[] = [];
    const wholeRates: number[] = [];
    const directRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const measureRunner = async () => {
        counting = true;
        const [bytesPath, whole] = await runnerRound();
        counting = false;
        runnerRates.push(bytesPath);
        wholeRates.push(whole);
      };
      if (r % 2 === 0) {
        await measureRunner();
        directRates.push(await round(direct));
      } else {
        directRates.push(await round(direct));
        await measureRunner();
      }
    }

    // Client-side crypto on the same 10 MiB (plaintext of a blob of that size), for comparison.
    const plainSize = BLOB_BYTES - (blobSize(BLOB_BYTES) - BLOB_BYTES);
    const plain = blob.subarray(0, plainSize);
    const fileKey = new Uint8Array(randomBytes(32));
    const encryptRates: number[] = [];
    const decryptRates: number[] = [];
    for (let r = 0; r < Math.min(rounds, 3); r++) {
      let started = performance.now();
      const encrypted = encryptBlob(
        (async function* () {
          yield plain;
        })(),
        plain.length,
        fileKey,
      );
      const parts: Uint8Array[] = [];
      for await (const chunk of encrypted.chunks) parts.push(chunk);
      encryptRates.push(plain.length / 1048576 / ((performance.now() - started) / 1000));
      started = performance.now();
      for await (const _ of decryptBlob(
        (async function* () {
          yield* parts;
        })(),
        plain.length,
        fileKey,
        encrypted.hash(),
      ));
      decryptRates.push(plain.length / 1048576 / ((performance.now() - started) / 1000));
    }

    const runnerStats = stats(runnerRates);
    const wholeStats = stats(wholeRates);
    const directStats = stats(directRates);
    const blobs = rounds * pairsPerRound;
    return {
      rounds,
      pairsPerRound,
      runner: runnerStats,
      direct: directStats,
      ratio: runnerStats.median / directStats.median,
      runnerWhole: wholeStats,
      wholeRatio: wholeStats.median / directStats.median,
      functionFrameBytes: frameBytes.reduce((a, b) => a + b, 0) / blobs,
      functionObjectCalls: objectCalls,
      encryptMiBs: stats(encryptRates).median,
      decryptMiBs: stats(decryptRates).median,
      load: [loadAtStart, loadAverage()],
    };
  } finally {
    await session.close();
    await stop();
  }
}

export function mediaReport(result: MediaBenchResult): BenchReport {
  const row = (name: string, s: Stats) => [name, fixed(s.min, 2), fixed(s.median, 2), fixed(s.max, 2)];
  const table = markdownTable(
    ['path', 'min pairs/s', 'median pairs/s', 'max pairs/s'],
    [
      row('presigned POST + GET through the runner', result.runner),
      row('the same + blobUpload, blobDownload, blobDone', result.runnerWhole),
      row('POST + GET directly on s3rver', result.direct),
    ],
    [false, true, true, true],
  );
  const met = result.ratio >= TARGET_RATIO;
  const mib = BLOB_BYTES / 1048576;
  return {
    id: 'P8',
    name: 'media',
    summary: `Media ${mib} MiB upload+download through presigned URLs ÷ directly on s3rver: **${result.ratio.toFixed(2)}** (target ≥ ${TARGET_RATIO}: ${met ? 'met' : 'missed'}); blob bytes through functions: **${result.functionObjectCalls === 0 ? 0 : 'some'}** (${fixed(result.functionFrameBytes, 0)} bytes of JSON frames per blob).`,
    ...(result.functionObjectCalls > 0
      ? { failures: [`a function called S3 PutObject/GetObject ${result.functionObjectCalls} times`] }
      : {}),
    section: (command) => `## P8 Media

Upload + download of one ${mib} MiB blob (random bytes standing for the encrypted file), sequentially,
one client: the way clients do it —
\`blobUpload\` on the chat socket, a presigned POST (multipart form) through the runner's media
proxy, which checks the policy as S3 would and streams the file to s3rver, then \`blobDownload\` and
a presigned GET through the proxy, then \`blobDone\` (deletes it) — against the same two requests
from the same client (fetch: a POST form, then a GET) straight to the runner's s3rver, which
checks nothing. ${result.rounds} interleaved
rounds of ${result.pairsPerRound} pairs per path, after a warm-up.

${machine(command, result.load)}

${table}

**Ratio (runner median / direct median): ${result.ratio.toFixed(2)} — target ≥ ${TARGET_RATIO} ${
      met ? 'met' : `missed by ${fixed(TARGET_RATIO - result.ratio, 2)}`
    }** for the bytes' path (the POST and the GET, timed apart from the rest). With the three
session requests per blob counted in (each a Lambda-style handler and DynamoDB Local transaction on
this machine), the ratio is ${result.wholeRatio.toFixed(2)}: they cost the same whatever the size,
so their share shrinks as files grow.

**Through the functions per blob: ${result.functionObjectCalls === 0 ? '0 blob bytes' : `${result.functionObjectCalls} object calls`}** —
the blob routes' events and answers carried ${fixed(result.functionFrameBytes, 0)} bytes of sealed
JSON frames per blob (sizes from their log lines), and no function called S3's PutObject or
GetObject during the measured rounds (counted on the SDK clients: only \`DeleteObject\` on "done").

Client-side, the SDK's chunked secretbox (tweetnacl, pure JavaScript) encrypts at
${fixed(result.encryptMiBs)} MiB/s and verifies + decrypts at ${fixed(result.decryptMiBs)} MiB/s on
this machine (median); that work is the same whatever the transport and is not in the ratio.
Both paths run in one process, interleaved, so a busy machine (see the load average above) slows
both; the spread of the rounds (min to max) says how far one round is to be trusted.
`,
  };
}
