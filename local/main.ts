/**
 * `npm start`: the whole backend on this machine, configured from the environment.
 *
 *   PORT (8080)  DATA_DIR (./.data)  MESSAGE_TTL_DAYS  SAFE_MAX_BACKUP_BYTES  SAFE_RETENTION_DAYS
 *   REGISTRATION_POLICY (open | invite)
 *   WS_IDLE_TIMEOUT_MS  WS_MAX_LIFETIME_MS  SWEEP_INTERVAL_MS (0 = off)  SCHEDULE_INTERVAL_MS (0 = off)
 *   SAFE_BASIC_AUTH=user:password (optional: HTTP Basic auth on every /safe/ route)
 *
 * SIGINT/SIGTERM stop everything, DynamoDB Local's java included.
 */
import { resolve } from 'node:path';
import { type BasicAuthCredentials, checkBasicAuthCredentials } from '../lambdas/domain/safe.ts';
import { ConfigError, deploymentSettings, positiveInt } from '../lambdas/runtime/env.ts';
import { LIMITS } from '../protocol/limits.ts';
import { JavaMissingError } from './dynamodb.ts';
import { PortInUseError, type Runner, startRunner } from './runner.ts';

function nonNegativeInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(name, 'must be a whole number');
  return Number(raw);
}

/** `SAFE_BASIC_AUTH=user:password`: split at the first colon; errors never echo the value. */
function safeBasicAuth(): BasicAuthCredentials | undefined {
  const raw = process.env.SAFE_BASIC_AUTH;
  if (raw === undefined || raw === '') return undefined;
  const colon = raw.indexOf(':');
  try {
    if (colon < 0) throw new Error('no colon');
    return checkBasicAuthCredentials({ username: raw.slice(0, colon), password: raw.slice(colon + 1) });
  } catch {
    throw new ConfigError('SAFE_BASIC_AUTH', 'must be user:password (non-empty, user without ":")');
  }
}

/** Exits once stdout has taken everything written so far (writes to a pipe are asynchronous). */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

async function main(): Promise<void> {
  const env = process.env;
  // The lockfile pins SDK versions that run on Node 20; the SDK's reminder about Node 22 is noise here.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const port = nonNegativeInt('PORT', 8080);
  if (port > 65535) throw new ConfigError('PORT', 'must be at most 65535');
  const dataDir = resolve(env.DATA_DIR?.trim() || '.data');
  const basicAuth = safeBasicAuth();

  let runner: Runner | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    if (stopping) return;
    process.stdout.write(`switchyard: ${signal} received, stopping\n`);
    stopping = (runner?.stop() ?? Promise.resolve()).then(
      () => exitAfterFlush(0),
      () => exitAfterFlush(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const settings = deploymentSettings(env);
  runner = await startRunner({
    dataDir,
    port,
    ...settings,
    safe: { ...settings.safe, ...(basicAuth ? { basicAuth } : {}) },
    ws: {
      idleTimeoutMs: positiveInt(env, 'WS_IDLE_TIMEOUT_MS', LIMITS.wsIdleTimeoutMs),
      maxLifetimeMs: positiveInt(env, 'WS_MAX_LIFETIME_MS', LIMITS.wsMaxLifetimeMs),
    },
    sweepIntervalMs: nonNegativeInt('SWEEP_INTERVAL_MS', 60_000),
    scheduleIntervalMs: nonNegativeInt('SCHEDULE_INTERVAL_MS', 60_000),
    // A slow start (a busy machine) says so instead of sitting silent.
    statusSink: (line) => process.stdout.write(`${line}\n`),
  });
  if (stopping) return;
  process.stdout.write(
    `switchyard ready: http ${runner.httpUrl} · ws ${runner.wsUrl} · safe ${runner.safeUrl}${basicAuth ? ' (Basic auth)' : ''} · server key ${runner.serverPublicKey}\n`,
  );
}

main().catch((error: unknown) => {
  const known =
    error instanceof PortInUseError || error instanceof JavaMissingError || error instanceof ConfigError;
  process.stderr.write(
    `switchyard: ${known ? (error as Error).message : `failed to start: ${(error as Error).message ?? error}`}\n`,
  );
  process.exit(1);
});
