import { defineConfig } from 'vitest/config';

/**
 * `npm run fuzz`: the long generated-input pass (FUZZ_RUNS inputs per route, default 10 000). Not
 * part of `npm test`. The seed is chosen here and printed before anything runs, so even a run that
 * dies in setup can be repeated with FUZZ_SEED=<seed>.
 */
const seed = process.env.FUZZ_SEED ?? String(Date.now() % 2_147_483_647);
const runs = process.env.FUZZ_RUNS ?? '10000';
console.log(`fuzz: FUZZ_RUNS=${runs} inputs per route, FUZZ_SEED=${seed} (set it to repeat this run)`);

export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    // The runner under fuzz uses the run's shared DynamoDB Local and s3rver, as in `npm test`.
    globalSetup: ['test/support/global-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', FUZZ_SEED: seed, FUZZ_RUNS: runs },
    testTimeout: 3_600_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
  },
});
