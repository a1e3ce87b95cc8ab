/**
 * Safe benchmark: PUT + GET of one 64 KiB backup, (a) through the local runner's /safe/ routes
 * (HTTP → router → payload-2.0 event → handler → S3 adapter → embedded S3) and (b) directly on the
 * same embedded S3 with the SDK client the handler uses. Same process, same run, rounds
 * interleaved so that drift affects both alike; the ratio is what the gateway + handler cost.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LOCAL_SAFE_BUCKET } from '../contract/schema.ts';
import { backupKey } from '../lambdas/adapters/backups.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { type BackupId, ensureBackupId } from '../protocol/safe.ts';
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

export const TARGET_RATIO = 0.7;

export const BODY_BYTES = 64 * 1024;

export interface SafeBenchResult {
  readonly rounds: number;
  readonly opsPerRound: number;
  readonly bodyBytes: number;
  /** PUT+GET pairs per second, per round. */
  readonly runner: Stats;
  readonly direct: Stats;
  /** runner median / direct median. */
  readonly ratio: number;
  readonly load: readonly [number, number];
}

const newId = (): BackupId => ensureBackupId(randomBytes(32).toString('hex'));

export async function runSafeBench(options: { quick: boolean }): Promise<SafeBenchResult> {
  const loadAtStart = loadAverage();
  const rounds = options.quick ? 3 : 7;
  const opsPerRound = options.quick ? 20 : 100;
  const { runner, stop } = await startBenchRunner('safe', { sweepIntervalMs: 0, logSink: () => {} });
  const aws = createClients({
    endpoints: runner.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const body = new Uint8Array(randomBytes(BODY_BYTES));
  try {
    const viaRunner = async (): Promise<void> => {
      const url = `${runner.safeUrl}backups/${newId()}`;
      const put = await fetch(url, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
      await put.arrayBuffer();
      if (put.status !== 200) throw new Error(`runner PUT answered ${put.status}`);
      const get = await fetch(url, { headers: { accept: 'application/octet-stream' } });
      const bytes = new Uint8Array(await get.arrayBuffer());
      if (get.status !== 200 || bytes.length !== BODY_BYTES)
        throw new Error(`runner GET answered ${get.status}`);
    };
    const direct = async (): Promise<void> => {
      const key = backupKey(newId());
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: LOCAL_SAFE_BUCKET,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
        }),
      );
      const object = await aws.s3.send(new GetObjectCommand({ Bucket: LOCAL_SAFE_BUCKET, Key: key }));
      const bytes = await object.Body!.transformToByteArray();
      if (bytes.length !== BODY_BYTES) throw new Error('direct GET returned the wrong size');
    };
    const round = async (op: () => Promise<void>): Promise<number> => {
      const started = performance.now();
      for (let i = 0; i < opsPerRound; i++) await op();
      return opsPerRound / ((performance.now() - started) / 1000);
    };

    // Warm up both paths (connections, JIT) before measuring.
    for (let i = 0; i < 10; i++) {
      await viaRunner();
      await direct();
    }
    const runnerRates: number[] = [];
    const directRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate which path goes first so neither always runs on a warmer machine.
      if (r % 2 === 0) {
        runnerRates.push(await round(viaRunner));
        directRates.push(await round(direct));
      } else {
        directRates.push(await round(direct));
        runnerRates.push(await round(viaRunner));
      }
    }
    const runnerStats = stats(runnerRates);
    const directStats = stats(directRates);
    return {
      rounds,
      opsPerRound,
      bodyBytes: BODY_BYTES,
      runner: runnerStats,
      direct: directStats,
      ratio: runnerStats.median / directStats.median,
      load: [loadAtStart, loadAverage()],
    };
  } finally {
    aws.destroy();
    await stop();
  }
}

export function safeReport(result: SafeBenchResult): BenchReport {
  const row = (name: string, s: Stats) => [name, fixed(s.min), fixed(s.median), fixed(s.max)];
  const table = markdownTable(
    ['path', 'min pairs/s', 'median pairs/s', 'max pairs/s'],
    [row('through the runner (/safe/)', result.runner), row('directly on embedded S3', result.direct)],
    [false, true, true, true],
  );
  const met = result.ratio >= TARGET_RATIO;
  return {
    id: 'P6',
    name: 'safe',
    summary: `Safe PUT+GET 64 KiB through the runner ÷ directly on embedded S3: **${result.ratio.toFixed(2)}** (target ≥ ${TARGET_RATIO}: ${met ? 'met' : 'missed'}) — ${fixed(result.runner.median)} vs ${fixed(result.direct.median)} pairs/s.`,
    section: (command) => `## P6 Safe

PUT + GET of one ${result.bodyBytes / 1024} KiB backup, sequentially, one client: through the
runner's \`/safe/backups/<id>\` (HTTP server → API Gateway-style router and payload-2.0 event →
Safe handler → S3 adapter → s3rver), against the same PUT + GET directly on the runner's embedded
s3rver with the SDK S3 client the handler uses. ${result.rounds} interleaved rounds of
${result.opsPerRound} PUT+GET pairs per path, after a warm-up.

${machine(command, result.load)}

${table}

**Ratio (runner median / direct median): ${result.ratio.toFixed(2)} — target ≥ ${TARGET_RATIO} ${
      met ? 'met' : `missed by ${fixed(TARGET_RATIO - result.ratio, 2)}`
    }** — the share of direct throughput left after the HTTP hop, the base64 body round trip of payload
format 2.0 and the handler.
`,
  };
}
