/**
 * What every Lambda entry does at cold start: parse this function's configuration from the
 * environment (failing loudly), and set up the system clock, randomness and the log, whose lines
 * carry the function's metrics (embedded metric format) here, and only here. SDK clients are created
 * by the entry itself, only those its function uses (lambdas/runtime/sdk/).
 */
import { FUNCTIONS, type FunctionName } from '../../contract/manifest.ts';
import { metricsNamespace } from '../../contract/metrics.ts';
import { systemClock, systemRandom } from '../domain/clock.ts';
import { configFromEnv, envSetting, type RuntimeConfig } from './env.ts';
import type { Base } from './functions/shared.ts';
import { createLogger } from './log.ts';

export function awsSetup(name: FunctionName): { readonly config: RuntimeConfig; readonly base: Base } {
  return {
    config: configFromEnv(process.env, FUNCTIONS[name]),
    base: {
      clock: systemClock,
      random: systemRandom,
      log: createLogger(undefined, {
        function: name,
        now: Date.now,
        namespace: metricsNamespace(envSetting(process.env, 'stage')),
      }),
    },
  };
}
