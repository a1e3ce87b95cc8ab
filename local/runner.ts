/**
 * The local runner: DynamoDB Local + s3rver + one HTTP server on 127.0.0.1 that serves the HTTP
 * API's routes, the WebSocket API on `/{WS_STAGE}`, its `@connections` management API and
 * `/health`, all driving the same handlers the Lambda entry files build, through the same adapters.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HttpHandler, WsHandler } from '../contract/events.ts';
import { FUNCTION_NAMES, FUNCTIONS, WS_STAGE } from '../contract/manifest.ts';
import { LOCAL_SAFE_BUCKET, localTableName } from '../contract/schema.ts';
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
import { startDynamoLocal } from './dynamodb.ts';
import { buildHttpEvent, createRouter, writeHttpResult } from './http-api.ts';
import { ensureBucket, ensureTables } from './provision.ts';
import { startS3Local } from './s3.ts';
import { loadOrCreateServerKey } from './server-key.ts';
import { startSweeper } from './sweeper.ts';
import { createWebPage } from './web.ts';
import { createWsApi, type WsLimits } from './ws-api.ts';

export interface RunnerOptions {
  readonly dataDir: string;
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
  readonly onRequest?: (service: string, operation: string) => (() => void) | undefined;
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
  stop(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(port: number) {
    super(
      `Port ${port} on 127.0.0.1 is already in use. Stop whatever holds it, or start with PORT=<another port>.`,
    );
    this.name = 'PortInUseError';
  }
}

export const RUNNER_FILE = 'runner.json';
const HOST = '127.0.0.1';

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port) : error);
    server.once('error', onError);
    server.listen(port, HOST, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Reads a request body, refusing (without buffering) anything over `limit` bytes. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > limit) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

export async function startRunner(options: RunnerOptions): Promise<Runner> {
  mkdirSync(options.dataDir, { recursive: true });
  const serverKey = loadOrCreateServerKey(options.dataDir);
  const wsLimits: WsLimits = {
    messageBytes: LIMITS.wsMessageBytes,
    frameBytes: LIMITS.wsFrameBytes,
    idleTimeoutMs: LIMITS.wsIdleTimeoutMs,
    maxLifetimeMs: LIMITS.wsMaxLifetimeMs,
    ...options.ws,
  };

  // Listen first: a taken port is reported before anything else starts.
  let ready = false;
  let route: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | undefined;
  const http = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health' && (request.method === 'GET' || request.method === 'HEAD')) {
      return json(response, ready ? 200 : 503, { status: ready ? 'ok' : 'starting' });
    }
    if (!route) return json(response, 503, { message: 'Service Unavailable' });
    route(request, response).catch(() => {
      if (!response.headersSent) json(response, 500, { message: 'Internal Server Error' });
      else response.destroy();
    });
  });
  http.keepAliveTimeout = 5000;
  const port = await listen(http, options.port);
  const origin = `http://${HOST}:${port}`;

  const stops: Array<() => Promise<void>> = [
    () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  ];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  };

  try {
    const [dynamoLocal, s3Local] = await Promise.all([
      startDynamoLocal({ dataDir: options.dataDir }),
      startS3Local({ dataDir: options.dataDir }),
    ]);
    stops.push(dynamoLocal.stop, s3Local.stop);

    const endpoints = { dynamodb: dynamoLocal.endpoint, s3: s3Local.endpoint };
    const clients = createClients({
      endpoints,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.injectFault ? { injectFault: options.injectFault } : {}),
    });
    stops.push(async () => clients.destroy());
    const provisioner = new DynamoDBClient({
      endpoint: endpoints.dynamodb,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    await ensureTables(provisioner, localTableName);
    provisioner.destroy();
    await ensureBucket(clients.s3, LOCAL_SAFE_BUCKET);

    const config: RuntimeConfig = {
      tables: {
        identities: localTableName('identities'),
        mailbox: localTableName('mailbox'),
        connections: localTableName('connections'),
        ephemeral: localTableName('ephemeral'),
      },
      safeBucket: LOCAL_SAFE_BUCKET,
      managementEndpoint: `${origin}/${WS_STAGE}`,
      messageTtlDays: options.messageTtlDays ?? LIMITS.messageTtlDaysDefault,
      registrationPolicy: options.registrationPolicy ?? 'open',
      serverKey: { kind: 'key', secretKey: serverKey.secretKey },
      safe: {
        maxBackupBytes: options.safe?.maxBackupBytes ?? LIMITS.safeMaxBackupBytesDefault,
        retentionDays: options.safe?.retentionDays ?? LIMITS.safeRetentionDaysDefault,
        ...(options.safe?.basicAuth
          ? { basicAuth: { kind: 'digest', digest: basicAuthDigest(options.safe.basicAuth) } as const }
          : {}),
      },
    };
    const codeSink = options.codeSink ?? ((line: string) => process.stdout.write(`${line}\n`));
    const built = composeAll(config, clients, {
      clock: systemClock,
      random: systemRandom,
      log: createLogger(options.logSink),
      codes: {
        enabled: true,
        send: async (kind, _address, code) =>
          codeSink(`switchyard: verification code for the ${kind} being linked: ${code}`),
      },
    });

    const wsRoutes = new Map<string, WsHandler>();
    const httpRoutes: Array<[string, HttpHandler]> = [];
    for (const name of FUNCTION_NAMES) {
      const fn = built[name];
      const spec = FUNCTIONS[name];
      for (const key of spec.wsRoutes as readonly string[])
        if (fn.kind === 'ws') wsRoutes.set(key, fn.handler);
      for (const key of spec.httpRoutes as readonly string[])
        if (fn.kind === 'http') httpRoutes.push([key, fn.handler]);
    }
    const wsApi = createWsApi({
      stage: WS_STAGE,
      domainName: `${HOST}:${port}`,
      limits: wsLimits,
      routes: wsRoutes,
    });
    stops.push(() => wsApi.close());
    const match = createRouter(httpRoutes);
    const managementPrefix = `/${WS_STAGE}/@connections/`;
    // The browser page at `/`, configured with this runner's URLs and server key.
    const webPage = createWebPage({
      httpUrl: `${origin}/`,
      wsUrl: `ws://${HOST}:${port}/${WS_STAGE}`,
      safeUrl: `${origin}/safe/`,
      serverPublicKey: toHex(serverKey.publicKey),
    });

    http.on('upgrade', (request, socket, head) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === `/${WS_STAGE}`) return wsApi.handleUpgrade(request, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });

    route = async (request, response) => {
      const method = request.method ?? 'GET';
      const path = (request.url ?? '/').split('?')[0]!;
      if (await webPage(request, response)) return;
      if (path.startsWith(managementPrefix)) {
        const body = await readBody(request, wsLimits.messageBytes);
        let connectionId: string;
        try {
          connectionId = decodeURIComponent(path.slice(managementPrefix.length));
        } catch {
          return json(response, 400, { message: 'Invalid connection id' });
        }
        return wsApi.handleManagement(request, response, connectionId, body);
      }
      const matched = match(method, path);
      if (!matched) return json(response, 404, { message: 'Not Found' });
      const body = await readBody(request, LIMITS.httpBodyBytes);
      // API Gateway refuses bodies over its payload limit before invoking anything.
      if (body === undefined)
        return json(response, 413, { message: 'Request Entity Too Large' }, { connection: 'close' });
      const event = buildHttpEvent(request, body, matched, Date.now(), `${HOST}:${port}`);
      writeHttpResult(response, await matched.handler(event), method);
    };

    const jobs: Array<() => Promise<void>> = [];
    for (const name of FUNCTION_NAMES) {
      const fn = built[name];
      if (fn.kind === 'schedule') jobs.push(fn.handler);
    }
    const scheduleIntervalMs = options.scheduleIntervalMs ?? 60_000;
    let runningJobs: Promise<unknown> = Promise.resolve();
    const scheduler =
      scheduleIntervalMs > 0
        ? setInterval(() => {
            // A failed run is logged by the job itself and tried again next time, as on AWS.
            runningJobs = Promise.allSettled(jobs.map((job) => job()));
          }, scheduleIntervalMs)
        : undefined;
    scheduler?.unref();
    stops.push(async () => {
      clearInterval(scheduler);
      await runningJobs;
    });

    const sweeper = startSweeper(
      {
        dynamo: clients.dynamo,
        s3: clients.s3,
        tableName: localTableName,
        bucket: LOCAL_SAFE_BUCKET,
        retentionDays: config.safe.retentionDays,
        now: () => Date.now(),
      },
      options.sweepIntervalMs ?? 60_000,
      () => process.stderr.write('switchyard: expiry sweep failed; retrying at the next interval\n'),
    );
    stops.push(() => sweeper.stop());

    const runner: Runner = {
      port,
      httpUrl: `${origin}/`,
      wsUrl: `ws://${HOST}:${port}/${WS_STAGE}`,
      safeUrl: `${origin}/safe/`,
      serverPublicKey: toHex(serverKey.publicKey),
      endpoints,
      stop: async () => {
        ready = false;
        await stopAll();
        rmSync(join(options.dataDir, RUNNER_FILE), { force: true });
      },
    };
    writeFileSync(
      join(options.dataDir, RUNNER_FILE),
      `${JSON.stringify({ pid: process.pid, httpUrl: runner.httpUrl, wsUrl: runner.wsUrl, safeUrl: runner.safeUrl, endpoints }, null, 2)}\n`,
    );
    ready = true;
    return runner;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
