/**
 * The package's entry for CDK apps: `import { Switchyard } from 'switchyard'` and
 * `new Switchyard(app, 'Switchyard', { messageTtlDays: 7 })`, once per copy (`stage`).
 * The stacks are built from this repository's TypeScript sources (functions bundled by esbuild at
 * synth), so the app runs through tsx like bin/switchyard.ts does (cdk.json `"app"`).
 */
export {
  CONFIG_DEFAULTS,
  ConfigurationError,
  type CustomDomains,
  type RegistrationPolicy,
  type SwitchyardConfig,
} from './config.ts';
export { nagPacks } from './nag.ts';
export { STAGE_TAG, Switchyard, type SwitchyardProps } from './switchyard.ts';
