/**
 * The CDK app: reads the configuration from context, creates the stateful and the API stack, and
 * runs cdk-nag's AwsSolutions pack over both. An unacknowledged cdk-nag error fails the synth.
 * No resources are defined here.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ApiStack } from '../lib/api-stack.ts';
import { ConfigurationError, readConfig, type SwitchyardConfig } from '../lib/config.ts';
import { StatefulStack } from '../lib/stateful-stack.ts';

const app = new App();
const config = configOrExit(app);

// Environment-agnostic: synth needs no credentials; deploy targets the CLI's account and Region.
const stateful = new StatefulStack(app, 'SwitchyardStateful', {
  description: 'Switchyard: tables and Safe bucket (retained)',
  config,
});
new ApiStack(app, 'SwitchyardApi', {
  description: 'Switchyard: APIs and functions',
  config,
  tables: stateful.tables,
  safeBucket: stateful.safeBucket,
  serverKey: stateful.serverKey,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

app.synth();

/** A configuration mistake is the operator's to fix: print what to change, not a stack trace. */
function configOrExit(scope: App): SwitchyardConfig {
  try {
    return readConfig(scope);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
