/**
 * The embedded S3-compatible server (s3rver), persisting under `dataDir`. It checks no signature,
 * offers no lifecycle API and no conditional PUT; the runner's sweeper supplies lifecycle expiry.
 * It runs silent: its request log would print object keys, which name backups.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Local {
  readonly endpoint: string;
  /** Where s3rver keeps its objects, one folder per bucket. */
  readonly directory: string;
  stop(): Promise<void>;
}

export async function startS3Local(options: { dataDir?: string; port?: number } = {}): Promise<S3Local> {
  const temporary = options.dataDir === undefined;
  const directory = temporary ? mkdtempSync(join(tmpdir(), 'switchyard-s3-')) : join(options.dataDir!, 's3');
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory,
    silent: true,
    allowMismatchedSignatures: true,
  });
  const address = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    async stop() {
      const http = (server as unknown as { httpServer?: Server }).httpServer;
      http?.closeAllConnections();
      await server.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  };
}
