import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Tests that spawn real processes (the CLI, npm start) take seconds at rest and several times
    // that on a busy 2-core machine.
    testTimeout: 90_000,
    // Above DynamoDB Local's start timeout (local/dynamodb.ts): the few test files that start their
    // own report its error rather than a bare hook timeout when a busy machine makes it slow.
    hookTimeout: 240_000,
    maxWorkers: 2,
    // A worker runs its files one after another in one module graph, instead of a fresh one per file:
    // the AWS SDK, aws-cdk-lib, the runner and the Vite transforms are loaded once per worker, not
    // once per file. Measured on clean runs of the whole suite (2026-12-03): 11.4 CPU-minutes and
    // 6 min 51 s with a graph per file, 7.6 to 9.0 CPU-minutes and 5 min 10 s to 5 min 44 s without.
    // So what a test changes in the process is undone after it: stubbed globals and environment
    // variables, and spies. Runners take their settings as options, never from process.env.
    isolate: false,
    unstubEnvs: true,
    unstubGlobals: true,
    restoreMocks: true,
    // The in-process runners allocate briskly (AWS SDK requests and replies): a larger young
    // generation made the test workers spend about 9 % less CPU in a measured pair of e2e files.
    execArgv: ['--max-semi-space-size=32'],
  },
});
