/**
 * The Switchyard construct: one whole deployment — the stateful stack (tables, Safe bucket, server
 * key; retained, termination-protected) and the API stack on top of it (functions, APIs, alarms,
 * dashboard). bin/switchyard.ts uses it with the configuration from CDK context; an operator's own
 * CDK app can use it with props, once per copy (`stage`).
 *
 * Cross-stack references are *weak* on the consuming side (`Fn::GetStackOutput`), not
 * `Fn::ImportValue`: CloudFormation refuses to change or remove an export another stack imports, so
 * with imports a table replaced by a schema change (a new key, a new local index) or removed would
 * fail the stateful stack's update while the API stack still imports the old name — and the API stack
 * can only move after the stateful one. The stateful stack keeps its exports (nothing imports them any
 * more), so a deployment made by 0.1.0, whose API stack did import them, upgrades in one
 * `cdk deploy --all` (docs/OPERATIONS.md, Upgrading).
 */
import {
  CrossStackReferences,
  type Environment,
  ReferenceStrength,
  type StackProps,
  Stage,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../contract/manifest.ts';
import { ApiStack } from './api-stack.ts';
import { configFromProps, type SwitchyardConfig } from './config.ts';
import { StatefulStack } from './stateful-stack.ts';

/**
 * A Switchyard deployment's props: every setting of contract/settings.ts that CDK context holds
 * (same names, same bounds, same defaults — see SwitchyardConfig), plus where and how to deploy.
 */
export interface SwitchyardProps extends Partial<SwitchyardConfig> {
  /**
   * The account and Region of both stacks.
   * @default - the CDK CLI's account and Region at deploy time (environment-agnostic synth)
   */
  readonly env?: Environment;
  /**
   * Tags on both stacks, which CloudFormation puts on every resource that takes tags; added to
   * `switchyard:stage` (the stage, or `default`).
   * @default - `switchyard:stage` only
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * CloudFormation termination protection on the stateful stack: `cdk destroy` and DeleteStack are
   * refused until it is switched off. The tables, bucket and secret are RETAIN anyway; this also
   * keeps the stack that owns them.
   * @default true
   */
  readonly terminationProtection?: boolean;
  /**
   * The functions to deploy.
   * @default FUNCTIONS from contract/manifest.ts
   */
  readonly functions?: Readonly<Record<string, FunctionSpec>>;
}

/** The tag key naming a deployment's stage on every stack and resource. */
export const STAGE_TAG = 'switchyard:stage';

export class Switchyard extends Construct {
  /** The validated configuration, defaults filled in. */
  readonly config: SwitchyardConfig;
  /** Tables, Safe bucket, server key (and the customer-managed key): RETAIN, termination-protected. */
  readonly stateful: StatefulStack;
  /** Functions, APIs, alarms and dashboard: replaceable at will. */
  readonly api: ApiStack;

  /** Throws ConfigurationError (lib/config.ts) naming the first bad setting. */
  constructor(scope: Construct, id: string, props: SwitchyardProps = {}) {
    super(scope, id);
    const { env, tags, terminationProtection, functions, ...settings } = props;
    this.config = configFromProps(settings);
    const { stage } = this.config;
    this.assertOnlyCopyOfStage(stage);

    // Set before any stack exists: context applies to the children added after it.
    CrossStackReferences.of(this).consume(ReferenceStrength.BOTH);

    const suffix = stage ? `-${stage}` : '';
    const common: StackProps = {
      ...(env ? { env } : {}),
      tags: { [STAGE_TAG]: stage ?? 'default', ...tags },
    };
    this.stateful = new StatefulStack(this, 'Stateful', {
      ...common,
      stackName: `SwitchyardStateful${suffix}`,
      description: `Switchyard${stage ? ` (${stage})` : ''}: tables, Safe and media buckets (retained)`,
      terminationProtection: terminationProtection ?? true,
      config: this.config,
    });
    this.api = new ApiStack(this, 'Api', {
      ...common,
      stackName: `SwitchyardApi${suffix}`,
      description: `Switchyard${stage ? ` (${stage})` : ''}: APIs and functions`,
      config: this.config,
      tables: this.stateful.tables,
      safeBucket: this.stateful.safeBucket,
      mediaBucket: this.stateful.mediaBucket,
      serverKey: this.stateful.serverKey,
      ...(this.stateful.dataKey ? { dataKey: this.stateful.dataKey } : {}),
      ...(functions ? { functions } : {}),
    });
    Validations.of(this.api).acknowledge({
      id: 'Annotation::@aws-cdk/core:crossStackReferencesBothTransitional',
      reason:
        'Deliberate for this release: the API stack reads the stateful outputs weakly, and the stateful ' +
        'stack keeps the exports that deployments of 0.1.0 import, so they upgrade in one deploy. A ' +
        'later release drops the exports (docs/OPERATIONS.md, Upgrading).',
    });
  }

  /** Two copies with one stage would deploy to the same stack names and metric namespace. */
  private assertOnlyCopyOfStage(stage: string | undefined): void {
    const home = Stage.of(this);
    const twin = home?.node
      .findAll()
      .find(
        (other) =>
          other !== this &&
          other instanceof Switchyard &&
          Stage.of(other) === home &&
          other.config.stage === stage,
      );
    if (twin) {
      throw new Error(
        `Switchyard "${this.node.path}": "${twin.node.path}" already deploys ${stage ? `stage "${stage}"` : 'without a stage'}; ` +
          'give each copy its own `stage`.',
      );
    }
  }
}
