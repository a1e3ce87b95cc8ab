/**
 * Builds the command-line tools (build.ts), and starts one DynamoDB Local (in memory) and one
 * s3rver for the whole test run, and stops them afterwards. Integration tests create their own uniquely named tables and buckets from the schema
 * module; in-process runners use them with their own name prefix (test/support/runner.ts). Only
 * tests about DynamoDB Local's own process (crash, restart, data folder) start another.
 */
import type { TestProject } from 'vitest/node';
import { buildCli } from '../../build.ts';

// The lockfile pins SDK versions that run on Node 20; silence the SDK's reminder about Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { startDynamoLocal } from '../../local/dynamodb.ts';
import { startS3Local } from '../../local/s3.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    s3Endpoint: string;
    /** s3rver's folder (one subfolder per bucket), for tests that age objects by their file time. */
    s3Directory: string;
  }
}

export default async function setup(project: TestProject) {
  // The CLI tests run the built executables: build them from the sources under test.
  const [dynamo, s3] = await Promise.all([startDynamoLocal(), startS3Local(), buildCli()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('s3Directory', s3.directory);
  return async () => {
    await Promise.all([dynamo.stop(), s3.stop()]);
  };
}
