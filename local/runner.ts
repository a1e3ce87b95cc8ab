/**
 * The local runner: DynamoDB Local + s3rver + one HTTP server on 127.0.0.1 that serves the HTTP
 * API's routes, the WebSocket API on `/{WS_STAGE}`, its `@connections` management API and
 * `/health`, all driving the same handlers the Lambda entry files build, through the same adapters.
 *
 * This file puts the parts together and takes them down in reverse: the gateway (gateway.ts), the
 * backing services and their tables (backing.ts), the handlers, and the timers (jobs.ts).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamEvent, StreamResult } from '../contract/events.ts';
import { FUNCTION_NAMES, FUNCTIONS } from '../contract/manifest.ts';
import type { TableName } from '../contract/schema.ts';
import { WAKE_FILTER_PATTERN, WAKE_STREAM } from '../contract/streams.ts';
import { systemClock, systemRandom } from '../lambdas/domain/clock.ts';
import type { RegistrationPolicy } from '../lambdas/domain/directory.ts';
import { type BasicAuthCredentials, basicAuthDigest } from '../lambdas/domain/safe.ts';
import {
  type ClientOptions,
  createClients,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
} from '../lambdas/runtime/clients.ts';
import type { RuntimeConfig } from '../lambdas/runtime/env.ts';
import { composeAll } from '../lambdas/runtime/functions/index.ts';
import { createLogger } from '../lambdas/runtime/log.ts';
import { toHex } from '../protocol/bytes.ts';
import { LIMITS } from '../protocol/limits.ts';
import { type LocalNames, localNames, provisionNames, startBackingServices } from './backing.ts';
import type { DynamoJit } from './dynamodb.ts';
import { openGateway } from './gateway.ts';
import { startJobs } from './jobs.ts';
import { createMediaProxy } from './media-proxy.ts';
import { loadOrCreateServerKey } from './server-key.ts';
import { startStreamSource } from './streams.ts';
import { loadOrCreateVapidKey } from './vapid-key.ts';
import { loadOrCreateVaultSetup } from './vault-setup.ts';
import type { WsLimits } from './ws-api.ts';

export { PortInUseError } from './gateway.ts';

export interface RunnerOptions {
  /** The server key, `runner.json` and, unless `services` is given, DynamoDB Local's and s3rver's data. */
  readonly dataDir: string;
  /**
   * Running DynamoDB and S3 endpoints to use instead of starting DynamoDB Local and s3rver under
   * `dataDir` (the tests share one of each). The runner creates its tables and bucket there when
   * missing and leaves the services running when it stops. Default: start its own.
   */
  readonly services?: { readonly dynamodb: string; readonly s3: string };
  /** The JIT of the DynamoDB Local it starts (local/dynamodb.ts). Default `quick`. */
  readonly dynamoJit?: DynamoJit;
  /**
   * Prefix of this runner's table and bucket names (`{prefix}-switchyard-mailbox`), so runners
   * sharing `services` never see each other's data: lowercase letters, digits, inner hyphens.
   * Default none (`switchyard-mailbox`, what `npm start` uses).
   */
  readonly namePrefix?: string;
  /** Where start-up progress goes (each step, and "still waiting for DynamoDB Local"); default nowhere. */
  readonly statusSink?: (line: string) => void;
  /** 0 picks a free port. */
  readonly port: number;
  readonly ws?: Partial<WsLimits>;
  /** How often the TTL/lifecycle sweeper runs (ms); 0 turns it off. */
  readonly sweepIntervalMs?: number;
  readonly messageTtlDays?: number;
  readonly safe?: {
    readonly maxBackupBytes?: number;
    readonly retentionDays?: number;
    /** Turns on HTTP Basic auth for every /safe/ route (`SAFE_BASIC_AUTH=user:password` in main.ts). */
    readonly basicAuth?: BasicAuthCredentials;
  };
  /** Media blobs: largest blob, days a blob lives, bytes in flight per identity (contract/settings.ts). */
  readonly media?: {
    readonly maxBlobBytes?: number;
    readonly ttlDays?: number;
    readonly quotaBytes?: number;
  };
  /** Where handler log lines go (default stdout). */
  readonly logSink?: (line: string) => void;
  /** Directory registration policy (default `open`). */
  readonly registrationPolicy?: RegistrationPolicy;
  /**
   * Where verification codes for linking an e-mail address or phone number go: locally there is no
   * mail or SMS, so the runner prints them (default stdout). The line names the kind, never the address.
   */
  readonly codeSink?: (line: string) => void;
  /**
   * How often scheduled functions (manifest `schedule`, e.g. the login-deadline reaper) run, as
   * EventBridge runs them on AWS (ms; default 60 000, 0 = never).
   */
  readonly scheduleIntervalMs?: number;
  /** Called for every AWS SDK request the handlers send (the benchmarks count and time them). */
  readonly onRequest?: (service: string, operation: string, input: unknown) => (() => void) | undefined;
  /** Called with the capacity DynamoDB reports for each of the handlers' requests (the benchmarks price it). */
  readonly onConsumedCapacity?: (operation: string, capacity: unknown) => void;
  /**
   * Called with every WebSocket connection id the gateway creates (tests scan logs for all of
   * them, not just those still in the connections table). Default none.
   */
  readonly onConnection?: (connectionId: string) => void;
  /**
   * Push wake-ups: the debounce, the VAPID `sub`, and FCM / APNs credentials (parsed JSON of the
   * files `PUSH_FCM_CREDENTIALS_FILE` / `PUSH_APNS_CREDENTIALS_FILE`); without them only Web Push and
   * UnifiedPush run. `providerOrigins` points FCM and APNs at stand-ins (tests).
   */
  readonly push?: {
    readonly debounceSeconds?: number;
    readonly vapidSubject?: string;
    readonly fcm?: unknown;
    readonly apns?: unknown;
    readonly providerOrigins?: { readonly fcm?: string; readonly apns?: string };
  };
  /**
   * Whether the runner reads table streams and invokes their functions (the wake-ups), as Lambda's
   * event source mappings do; default true. Tests that count the send path's own requests turn it off.
   */
  readonly streams?: boolean;
  /**
   * Wraps each stream function's handler as the runner's stream reader invokes it (the benchmarks
   * attribute its SDK requests to the function). Default none.
   */
  readonly wrapStreamHandler?: (
    name: string,
    handler: (event: StreamEvent) => Promise<StreamResult>,
  ) => (event: StreamEvent) => Promise<StreamResult>;
  /** Fails chosen AWS SDK request attempts (the reliability tests; see ClientOptions.injectFault). */
  readonly injectFault?: ClientOptions['injectFault'];
}

export interface Runner {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly safeUrl: string;
  readonly serverPublicKey: string;
  readonly endpoints: { readonly dynamodb: string; readonly s3: string };
  /** The physical names of this runner's tables (after `namePrefix`). */
  readonly tables: Readonly<Record<TableName, string>>;
  /** The physical name of this runner's Safe bucket (after `namePrefix`). */
  readonly safeBucket: string;
  /**
   * The physical name of this runner's media bucket (after `namePrefix`); presigned media URLs are
   * `{httpUrl}{mediaBucket}/…`, answered by the runner's media proxy (local/media-proxy.ts).
   */
  readonly mediaBucket: string;
  stop(): Promise<void>;
}

export const RUNNER_FILE = 'runner.json';

/** Stops pushed last are run first; one that fails does not keep the others from running. */
function stopStack() {
  const stops: Array<() => Promise<void>> = [];
  return {
    push: (stop: () => Promise<void>) => stops.push(stop),
    async stopAll() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      stops.length = 0;
    },
  };
}

function runtimeConfig(
  options: RunnerOptions,
  names: LocalNames,
  managementEndpoint: string,
  secretKey: Uint8Array,
  vaultSetup: string,
  vapidKey: unknown,
): RuntimeConfig {
  const push = options.push ?? {};
  return {
    tables: { ...names.tables },
    safeBucket: names.safeBucket,
    mediaBucket: names.mediaBucket,
    managementEndpoint,
    messageTtlDays: options.messageTtlDays ?? LIMITS.messageTtlDaysDefault,
    registrationPolicy: options.registrationPolicy ?? 'open',
    serverKey: { kind: 'key', secretKey },
    vaultSetup: { kind: 'setup', setup: vaultSetup },
    push: {
      debounceSeconds: push.debounceSeconds ?? LIMITS.pushDebounceSecondsDefault,
      vapid: { kind: 'value', value: vapidKey },
      ...(push.vapidSubject ? { vapidSubject: push.vapidSubject } : {}),
      ...(push.fcm !== undefined ? { fcm: { kind: 'value', value: push.fcm } as const } : {}),
      ...(push.apns !== undefined ? { apns: { kind: 'value', value: push.apns } as const } : {}),
      // The runner is on loopback itself, and the tests run their push service there.
      allowLoopback: true,
      ...(push.providerOrigins ? { providerOrigins: push.providerOrigins } : {}),
    },
    safe: {
      maxBackupBytes: options.safe?.maxBackupBytes ?? LIMITS.safeMaxBackupBytesDefault,
      retentionDays: options.safe?.retentionDays ?? LIMITS.safeRetentionDaysDefault,
      ...(options.safe?.basicAuth
        ? { basicAuth: { kind: 'digest', digest: basicAuthDigest(options.safe.basicAuth) } as const }
        : {}),
    },
    media: {
      maxBlobBytes: options.media?.maxBlobBytes ?? LIMITS.mediaMaxBlobBytesDefault,
      ttlDays: options.media?.ttlDays ?? LIMITS.mediaTtlDaysDefault,
      quotaBytes: options.media?.quotaBytes ?? LIMITS.mediaQuotaBytesDefault,
    },
  };
}

export async function startRunner(options: RunnerOptions): Promise<Runner> {
  const names = localNames(options.namePrefix);
  mkdirSync(options.dataDir, { recursive: true });
  const serverKey = loadOrCreateServerKey(options.dataDir);
  const serverPublicKey = toHex(serverKey.publicKey);
  const vaultSetup = await loadOrCreateVaultSetup(options.dataDir);
  const vapidKey = loadOrCreateVapidKey(options.dataDir);
  const wsLimits: WsLimits = {
    messageBytes: LIMITS.wsMessageBytes,
    frameBytes: LIMITS.wsFrameBytes,
    idleTimeoutMs: LIMITS.wsIdleTimeoutMs,
    maxLifetimeMs: LIMITS.wsMaxLifetimeMs,
    ...options.ws,
  };

  // Listen first: a taken port is reported before anything else starts.
  const gateway = await openGateway(options.port);
  const stops = stopStack();
  stops.push(() => gateway.close());

  try {
    const status = options.statusSink;
    const started = Date.now();
    const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    status?.(
      options.services
        ? 'switchyard: using the given DynamoDB and S3 endpoints'
        : `switchyard: starting DynamoDB Local (Java) and the S3 server (s3rver) in ${options.dataDir}`,
    );
    const services = await startBackingServices({
      dataDir: options.dataDir,
      ...(options.services ? { given: options.services } : {}),
      ...(options.dynamoJit ? { jit: options.dynamoJit } : {}),
      ...(status
        ? {
            onWaiting: (seconds: number) =>
              status(`switchyard: still waiting for DynamoDB Local (${seconds} s)`),
          }
        : {}),
    });
    stops.push(() => services.stop());
    const { endpoints } = services;

    const clients = createClients({
      // Presigned media URLs name the runner's own address: its media proxy checks them as S3 would.
      endpoints: { ...endpoints, s3Presigned: gateway.httpUrl.replace(/\/$/, '') },
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.onConsumedCapacity ? { onConsumedCapacity: options.onConsumedCapacity } : {}),
      ...(options.injectFault ? { injectFault: options.injectFault } : {}),
    });
    stops.push(async () => clients.destroy());
    status?.(
      `switchyard: DynamoDB and S3 are up (${seconds()}); creating the tables and the Safe bucket where missing`,
    );
    await provisionNames(endpoints, clients.s3, names);
    status?.(`switchyard: tables and bucket ready (${seconds()}); starting the HTTP and WebSocket APIs`);

    const config = runtimeConfig(
      options,
      names,
      gateway.managementEndpoint,
      serverKey.secretKey,
      vaultSetup,
      vapidKey,
    );
    const codeSink = options.codeSink ?? ((line: string) => process.stdout.write(`${line}\n`));
    const built = composeAll(config, clients, {
      clock: systemClock,
      random: systemRandom,
      log: createLogger(options.logSink),
      codes: {
        enabled: true,
        // The directory's (linking) and the vault's (one attempt) codes; the line names the kind only.
        send: async (kind, _address, code) =>
          codeSink(`switchyard: verification code for the ${kind} being linked: ${code}`),
      },
    });

    const wsApi = gateway.attach({
      built,
      wsLimits,
      media: createMediaProxy({
        bucket: names.mediaBucket,
        upstream: endpoints.s3,
        credentials: LOCAL_CREDENTIALS,
        region: LOCAL_REGION,
      }),
      page: { serverPublicKey },
      ...(options.onConnection ? { onConnection: options.onConnection } : {}),
    });
    stops.push(() => wsApi.close());

    const jobs = startJobs({
      built,
      clients,
      names,
      retentionDays: config.safe.retentionDays,
      mediaTtlDays: config.media.ttlDays,
      scheduleIntervalMs: options.scheduleIntervalMs ?? 60_000,
      sweepIntervalMs: options.sweepIntervalMs ?? 60_000,
    });
    stops.push(() => jobs.stop());

    // Stream functions (the wake-ups): DynamoDB Local's stream, read as Lambda's event source would.
    for (const name of FUNCTION_NAMES) {
      const fn = built[name];
      const table = (FUNCTIONS[name] as { stream?: TableName }).stream;
      if (fn.kind !== 'stream' || !table || options.streams === false) continue;
      const source = startStreamSource({
        endpoint: endpoints.dynamodb,
        tableName: names.tables[table],
        pattern: WAKE_FILTER_PATTERN,
        batchSize: WAKE_STREAM.batchSize,
        retryAttempts: WAKE_STREAM.retryAttempts,
        handler: options.wrapStreamHandler ? options.wrapStreamHandler(name, fn.handler) : fn.handler,
      });
      stops.push(() => source.stop());
    }

    const runner: Runner = {
      port: gateway.port,
      httpUrl: gateway.httpUrl,
      wsUrl: gateway.wsUrl,
      safeUrl: gateway.safeUrl,
      serverPublicKey,
      endpoints,
      tables: names.tables,
      safeBucket: names.safeBucket,
      mediaBucket: names.mediaBucket,
      stop: async () => {
        gateway.setReady(false);
        await stops.stopAll();
        rmSync(join(options.dataDir, RUNNER_FILE), { force: true });
      },
    };
    const { httpUrl, wsUrl, safeUrl, tables, safeBucket, mediaBucket } = runner;
    writeFileSync(
      join(options.dataDir, RUNNER_FILE),
      `${JSON.stringify({ pid: process.pid, httpUrl, wsUrl, safeUrl, endpoints, tables, safeBucket, mediaBucket }, null, 2)}\n`,
    );
    gateway.setReady(true);
    return runner;
  } catch (error) {
    await stops.stopAll();
    throw error;
  }
}
