/**
 * Composition on Lambda: parse this function's configuration from the environment at cold start
 * (failing loudly), create the SDK clients once per container, and build the shared Deps. Log
 * lines carry the function's metrics (embedded metric format) here, and only here.
 */

import { FUNCTIONS, type FunctionName } from '../../contract/manifest.ts';
import { createClients } from './clients.ts';
import { buildDeps, type Deps } from './deps.ts';
import { configFromEnv } from './env.ts';
import { createLogger } from './log.ts';

export function awsDeps(name: FunctionName): Deps {
  return buildDeps(configFromEnv(process.env, FUNCTIONS[name]), createClients(), {
    log: createLogger(undefined, { function: name, now: Date.now }),
  });
}
