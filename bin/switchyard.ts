/**
 * The CDK app: one Switchyard construct (lib/switchyard.ts) configured from CDK context (cdk.json
 * `context`, `-c key=value`; `-c stage=staging` deploys another copy beside the first), with
 * cdk-nag's AwsSolutions and Serverless packs. No resources are defined here.
 */
import { App, Validations } from 'aws-cdk-lib';
import { ConfigurationError, readConfig } from '../lib/config.ts';
import { nagPacks } from '../lib/nag.ts';
import { Switchyard } from '../lib/switchyard.ts';

const app = new App();
try {
  new Switchyard(app, 'Switchyard', readConfig(app));
} catch (error) {
  // A configuration mistake is the operator's to fix: print what to change, not a stack trace.
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
Validations.of(app).addPlugins(...nagPacks(app));
app.synth();
