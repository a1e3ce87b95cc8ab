/**
 * What runs on a timer in the runner: the manifest's scheduled functions (e.g. the login-deadline
 * reaper), as EventBridge runs them on AWS, and the sweeper standing in for DynamoDB TTL and the
 * Safe bucket's lifecycle rule.
 */
import type { FunctionName } from '../contract/manifest.ts';
import { FUNCTION_NAMES } from '../contract/manifest.ts';
import type { AwsClients } from '../lambdas/runtime/clients.ts';
import type { Built } from '../lambdas/runtime/functions/index.ts';
import type { LocalNames } from './backing.ts';
import { startSweeper } from './sweeper.ts';

export interface JobsOptions {
  readonly built: Readonly<Record<FunctionName, Built>>;
  readonly clients: Pick<AwsClients, 'dynamo' | 's3'>;
  readonly names: LocalNames;
  readonly retentionDays: number;
  /** Days a media blob lives (the media bucket's lifecycle rule). */
  readonly mediaTtlDays: number;
  /** ms; 0 = never. */
  readonly scheduleIntervalMs: number;
  /** ms; 0 = never. */
  readonly sweepIntervalMs: number;
}

/** Starts both timers; `stop` clears them and waits for runs in progress. */
export function startJobs(options: JobsOptions): { stop(): Promise<void> } {
  const jobs: Array<() => Promise<void>> = [];
  for (const name of FUNCTION_NAMES) {
    const fn = options.built[name];
    if (fn.kind === 'schedule') jobs.push(fn.handler);
  }
  let runningJobs: Promise<unknown> = Promise.resolve();
  const scheduler =
    options.scheduleIntervalMs > 0
      ? setInterval(() => {
          // A failed run is logged by the job itself and tried again next time, as on AWS.
          runningJobs = Promise.allSettled(jobs.map((job) => job()));
        }, options.scheduleIntervalMs)
      : undefined;
  scheduler?.unref();

  const sweeper = startSweeper(
    {
      dynamo: options.clients.dynamo,
      s3: options.clients.s3,
      tableName: (table) => options.names.tables[table],
      bucket: options.names.safeBucket,
      retentionDays: options.retentionDays,
      mediaBucket: options.names.mediaBucket,
      mediaTtlDays: options.mediaTtlDays,
      now: () => Date.now(),
    },
    options.sweepIntervalMs,
    () => process.stderr.write('switchyard: expiry sweep failed; retrying at the next interval\n'),
  );

  return {
    async stop() {
      // Stopped in the order the runner always used: the sweeper first, then the schedule.
      await sweeper.stop().catch(() => {});
      clearInterval(scheduler);
      await runningJobs.catch(() => {});
    },
  };
}
