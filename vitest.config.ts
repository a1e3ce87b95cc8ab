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
    // The in-process runners allocate briskly (AWS SDK requests and replies): a larger young
    // generation made the test workers spend about 9 % less CPU in a measured pair of e2e files.
    execArgv: ['--max-semi-space-size=32'],
  },
});
