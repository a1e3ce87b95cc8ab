/**
 * The CDK app: builds the stateful and the API stack from the context's configuration, with
 * cdk-nag's AwsSolutions and Serverless packs (lib/app.ts). No resources are defined here.
 */
import { App } from 'aws-cdk-lib';
import { buildSwitchyard } from '../lib/app.ts';
import { ConfigurationError } from '../lib/config.ts';

const app = new App();
try {
  buildSwitchyard(app);
} catch (error) {
  // A configuration mistake is the operator's to fix: print what to change, not a stack trace.
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();
