/**
 * The parent's handle on bench/load-worker.ts: starts it as a child process (tsx, IPC) and turns
 * its commands into typed calls. Also writes identity records for the worker's clients (and any
 * number of extra, never-connected ones) straight into the runner's identities table: setup, not
 * a measured path.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BatchWriteCommand, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import { IDENTITIES, localTableName } from '../contract/schema.ts';
import { createClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../lambdas/runtime/clients.ts';
import type { Runner } from '../local/runner.ts';
import { randomIdentityId } from '../protocol/identity.ts';
import type { BaselineResult, Command, FrameCounts, Ledger, LoadResult } from './load-worker.ts';

export type { BaselineResult, FrameCounts, Ledger, LoadResult };

type Reply<C extends Command['type']> = C extends 'load'
  ? LoadResult
  : C extends 'baseline'
    ? BaselineResult
    : C extends 'drain'
      ? Ledger
      : C extends 'identities'
        ? { id: string; publicKey: Uint8Array }[]
        : C extends 'connect'
          ? { ms: number; failed: number }
          : C extends 'frames'
            ? FrameCounts
            : C extends 'cpu'
              ? number
              : Record<string, never>;

export class Fleet {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  /** Client identities the worker holds, in index order. */
  readonly identities: string[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`load worker: ${message.error}`));
      else waiter?.resolve(message.result);
    });
    child.on('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`load worker exited (${code})`));
      this.waiting.clear();
    });
  }

  static start(): Fleet {
    const child = fork(fileURLToPath(new URL('./load-worker.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    return new Fleet(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<C extends Command>(command: C): Promise<Reply<C['type']>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }

  /**
   * Creates `count` client identities in the worker and registers them (active, with their public
   * keys) in the runner's identities table, plus `extra` records for identities nobody connects as.
   */
  async register(runner: Runner, count: number, extra = 0): Promise<void> {
    const created = count > 0 ? await this.call({ type: 'identities', count }) : [];
    this.identities.push(...created.map((c) => c.id));
    const filler = Array.from({ length: extra }, () => ({
      id: randomIdentityId((n) => new Uint8Array(randomBytes(n))),
      publicKey: new Uint8Array(randomBytes(32)),
    }));
    await writeIdentities(runner, [...created, ...filler]);
  }

  async stop(): Promise<void> {
    try {
      await this.call({ type: 'close' });
    } finally {
      this.child.disconnect();
      await new Promise<void>((resolve) => {
        if (this.child.exitCode !== null) return resolve();
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
        this.child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Identity records as the directory writes them (attribute names from the schema module). */
async function writeIdentities(
  runner: Runner,
  identities: readonly { id: string; publicKey: Uint8Array }[],
): Promise<void> {
  const A = IDENTITIES.attributes;
  const aws = createClients({
    endpoints: runner.endpoints,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const today = new Date().toISOString().slice(0, 10);
  const table = localTableName('identities');
  const batches: (typeof identities)[] = [];
  for (let i = 0; i < identities.length; i += 25) batches.push(identities.slice(i, i + 25));
  try {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let batch = batches.shift(); batch; batch = batches.shift()) {
          let requests: unknown[] | undefined = batch.map((identity) => ({
            PutRequest: {
              Item: {
                [A.identity]: identity.id,
                [A.state]: 'active',
                [A.publicKey]: identity.publicKey,
                [A.featureMask]: 0,
                [A.issueDate]: today,
                // Logged in today already: the login handler then has no lastLogin to update.
                [A.lastLogin]: today,
              },
            },
          }));
          while (requests && requests.length > 0) {
            const result: BatchWriteCommandOutput = await aws.dynamo.send(
              new BatchWriteCommand({ RequestItems: { [table]: requests as never } }),
            );
            requests = result.UnprocessedItems?.[table];
          }
        }
      }),
    );
  } finally {
    aws.destroy();
  }
}
