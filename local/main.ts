/**
 * `npm start`: the whole backend on this machine, configured from the environment: the settings of
 * contract/settings.ts marked `local` (README.md's table lists them with their defaults).
 *
 * SIGINT/SIGTERM stop everything, DynamoDB Local's java included.
 */
import { resolve } from 'node:path';
import { SETTINGS } from '../contract/settings.ts';
import { type BasicAuthCredentials, checkBasicAuthCredentials } from '../lambdas/domain/safe.ts';
import { ConfigError, deploymentSettings, envSetting } from '../lambdas/runtime/env.ts';
import { JavaMissingError } from './dynamodb.ts';
import { PortInUseError, type Runner, startRunner } from './runner.ts';
import { readCredentialsFile } from './vapid-key.ts';

/** A credentials file named by a `local` custom setting, parsed; absent: undefined. */
function credentialsFile(setting: { readonly env: string }): unknown {
  const path = process.env[setting.env]?.trim();
  return path ? readCredentialsFile(resolve(path), setting.env) : undefined;
}

/** `SAFE_BASIC_AUTH=user:password`: split at the first colon; errors never echo the value. */
function safeBasicAuth(): BasicAuthCredentials | undefined {
  const raw = process.env[SETTINGS.safeBasicAuth.env];
  if (raw === undefined || raw === '') return undefined;
  const colon = raw.indexOf(':');
  try {
    if (colon < 0) throw new Error('no colon');
    return checkBasicAuthCredentials({ username: raw.slice(0, colon), password: raw.slice(colon + 1) });
  } catch {
    throw new ConfigError(SETTINGS.safeBasicAuth.env, 'must be user:password (non-empty, user without ":")');
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
  const port = envSetting(env, 'port');
  const dataDir = resolve(env[SETTINGS.dataDir.env]?.trim() || SETTINGS.dataDir.default);
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
      idleTimeoutMs: envSetting(env, 'wsIdleTimeoutMs'),
      maxLifetimeMs: envSetting(env, 'wsMaxLifetimeMs'),
    },
    sweepIntervalMs: envSetting(env, 'sweepIntervalMs'),
    push: {
      debounceSeconds: envSetting(env, 'pushDebounceSeconds'),
      ...(envSetting(env, 'pushVapidSubject') ? { vapidSubject: envSetting(env, 'pushVapidSubject') } : {}),
      ...(credentialsFile(SETTINGS.pushFcmCredentialsFile) !== undefined
        ? { fcm: credentialsFile(SETTINGS.pushFcmCredentialsFile) }
        : {}),
      ...(credentialsFile(SETTINGS.pushApnsCredentialsFile) !== undefined
        ? { apns: credentialsFile(SETTINGS.pushApnsCredentialsFile) }
        : {}),
    },
    scheduleIntervalMs: envSetting(env, 'scheduleIntervalMs'),
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
