import { defineConfig } from 'vitest/config';

/** `npm run fuzz`: the long generated-input pass (FUZZ_RUNS inputs per route, default 10 000). Not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 3_600_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
  },
});
