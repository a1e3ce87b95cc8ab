/**
 * The Switchyard app's composition, shared by bin/switchyard.ts and the infrastructure tests so both
 * synthesize the same thing: the stateful stack, the API stack on top of it, and cdk-nag's
 * AwsSolutions and Serverless packs over both (an unacknowledged error finding fails the synth).
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { FunctionSpec } from '../contract/manifest.ts';
import { ApiStack } from './api-stack.ts';
import { readConfig, type SwitchyardConfig } from './config.ts';
import { StatefulStack } from './stateful-stack.ts';

export interface SwitchyardStacks {
  readonly config: SwitchyardConfig;
  readonly stateful: StatefulStack;
  readonly api: ApiStack;
}

export interface BuildOptions {
  /**
   * The functions to deploy.
   * @default FUNCTIONS from contract/manifest.ts
   */
  readonly functions?: Readonly<Record<string, FunctionSpec>>;
  /**
   * Register the cdk-nag packs as synth-time validation plugins.
   * @default true
   */
  readonly nag?: boolean;
}

/** The cdk-nag packs every synth runs. */
export function nagPacks(app: App) {
  return [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
}

/**
 * Reads the configuration from `app`'s context (throws ConfigurationError on a bad value) and adds
 * both stacks. Environment-agnostic: synth needs no credentials; deploy targets the CLI's account
 * and Region.
 */
export function buildSwitchyard(app: App, options: BuildOptions = {}): SwitchyardStacks {
  const config = readConfig(app);
  const stateful = new StatefulStack(app, 'SwitchyardStateful', {
    description: 'Switchyard: tables, Safe and media buckets (retained)',
    config,
  });
  const api = new ApiStack(app, 'SwitchyardApi', {
    description: 'Switchyard: APIs and functions',
    config,
    tables: stateful.tables,
    safeBucket: stateful.safeBucket,
    mediaBucket: stateful.mediaBucket,
    serverKey: stateful.serverKey,
    ...(stateful.dataKey ? { dataKey: stateful.dataKey } : {}),
    ...(options.functions ? { functions: options.functions } : {}),
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(...nagPacks(app));
  return { config, stateful, api };
}
