/**
 * The Switchyard construct as an operator's own CDK app uses it: twice in one app (production and a
 * staging copy), with props instead of CDK context.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../contract/settings.ts';
import { CONFIG_DEFAULTS, ConfigurationError } from '../../lib/config.ts';
import { STAGE_TAG, Switchyard } from '../../lib/switchyard.ts';

type Json = Record<string, unknown>;

const app = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

/** Every `Fn::ImportValue` and `Fn::GetStackOutput` in a template, as "function stack-name". */
function references(template: Json): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'Fn::ImportValue') found.push(`${key} ${JSON.stringify(inner)}`);
        else if (key === 'Fn::GetStackOutput') found.push(`${key} ${(inner as Json).StackName}`);
        else walk(inner);
      }
    }
  };
  walk(template);
  return found;
}

describe('the Switchyard construct', () => {
  const twice = (() => {
    const scope = app();
    const production = new Switchyard(scope, 'Production');
    const staging = new Switchyard(scope, 'Staging', {
      stage: 'staging',
      messageTtlDays: 3,
      terminationProtection: false,
      tags: { team: 'messaging' },
    });
    return { production, staging };
  })();

  it('deploys two copies in one app and account, under their own stack names', () => {
    const { production, staging } = twice;
    expect([production.stateful.stackName, production.api.stackName]).toEqual([
      'SwitchyardStateful',
      'SwitchyardApi',
    ]);
    expect([staging.stateful.stackName, staging.api.stackName]).toEqual([
      'SwitchyardStateful-staging',
      'SwitchyardApi-staging',
    ]);
    // Dependencies come from references, which the synth resolves.
    Template.fromStack(staging.api);
    expect(staging.api.dependencies).toEqual([staging.stateful]);
    expect(production.api.dependencies).toEqual([production.stateful]);
  });

  it('gives each copy its own configuration, defaults from the settings table', () => {
    const { production, staging } = twice;
    expect(production.config).toEqual(CONFIG_DEFAULTS);
    expect(staging.config).toEqual({ ...CONFIG_DEFAULTS, stage: 'staging', messageTtlDays: 3 });
    const ttl = (sy: Switchyard) =>
      Object.values(Template.fromStack(sy.api).findResources('AWS::Lambda::Function'))
        .map((fn) => (fn.Properties as Json).Environment as { Variables: Json } | undefined)
        .flatMap((env) => (env ? [env.Variables[ENV.messageTtlDays]] : []));
    expect(new Set(ttl(production))).toEqual(new Set(['14']));
    expect(new Set(ttl(staging))).toEqual(new Set(['3']));
  });

  it('keeps metrics and alarms of the copies apart', () => {
    const namespaces = (sy: Switchyard) =>
      new Set(
        JSON.stringify(Template.fromStack(sy.api).findResources('AWS::CloudWatch::Alarm'))
          .match(/"Namespace":"Switchyard[^"]*"/g)
          ?.map((match) => match.slice('"Namespace":'.length)),
      );
    expect(namespaces(twice.production)).toEqual(new Set(['"Switchyard"']));
    expect(namespaces(twice.staging)).toEqual(new Set(['"Switchyard/staging"']));
    const stageEnv = Object.values(
      Template.fromStack(twice.staging.api).findResources('AWS::Lambda::Function'),
    )
      .map((fn) => ((fn.Properties as Json).Environment as { Variables: Json } | undefined)?.Variables)
      .filter((vars) => vars?.[ENV.tables.mailbox] !== undefined)
      .map((vars) => vars?.[ENV.stage]);
    expect(new Set(stageEnv)).toEqual(new Set(['staging']));
  });

  it('protects the stateful stack from termination unless told not to, never the API stack', () => {
    expect(twice.production.stateful.terminationProtection).toBe(true);
    expect(twice.production.api.terminationProtection).toBe(false);
    expect(twice.staging.stateful.terminationProtection).toBe(false);
  });

  it('tags both stacks with the stage and the given tags', () => {
    expect(twice.production.stateful.tags.tagValues()).toEqual({ [STAGE_TAG]: 'default' });
    expect(twice.staging.api.tags.tagValues()).toEqual({ [STAGE_TAG]: 'staging', team: 'messaging' });
  });

  // CloudFormation refuses to change or delete an export while another stack imports it, and the
  // stateful stack deploys first: with imports, a table replaced by a schema change could never be
  // deployed (the "deadly embrace").
  it('lets the stateful stack change its tables: the API stack imports no export, it reads outputs', () => {
    for (const sy of [twice.production, twice.staging]) {
      const refs = references(Template.fromStack(sy.api).toJSON());
      expect(refs.length).toBeGreaterThan(0);
      expect(new Set(refs)).toEqual(new Set([`Fn::GetStackOutput ${sy.stateful.stackName}`]));
    }
  });

  it('keeps the exports deployments of 0.1.0 import, so they upgrade in one deploy', () => {
    const outputs = Template.fromStack(twice.production.stateful).toJSON().Outputs as Record<string, Json>;
    const exported = Object.values(outputs).filter((output) => output.Export);
    // Table name and ARN of each table (the 4 of 0.1.0, the vault's and the blobs'), each bucket's
    // (Safe, media), the server key secret's, and the mailbox stream's ARN (the wake-ups' event source).
    expect(exported).toHaveLength(6 * 2 + 2 * 2 + 1 + 1);
  });

  it('refuses a second copy of one stage in the same app', () => {
    const scope = app();
    new Switchyard(scope, 'One', { stage: 'staging' });
    expect(() => new Switchyard(scope, 'Two', { stage: 'staging' })).toThrow(
      /already deploys stage "staging"/,
    );
    new Switchyard(scope, 'Default');
    expect(() => new Switchyard(scope, 'Again')).toThrow(/without a stage/);
  });

  it('checks props as it checks CDK context', () => {
    expect(() => new Switchyard(app(), 'S', { messageTtlDays: 0 })).toThrow(ConfigurationError);
    expect(() => new Switchyard(app(), 'S', { stage: 'Staging!' })).toThrow(/"stage"/);
    expect(
      () =>
        new Switchyard(app(), 'S', {
          customDomains: { httpDomainName: 'api.example.org', webSocketDomainName: 'nope' },
        }),
    ).toThrow(/webSocketDomainName/);
  });

  it("documents each prop's default as the settings table has it", () => {
    const source = readFileSync('lib/config.ts', 'utf8');
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS)) {
      const doc = new RegExp(`@default ([^\\n]+)\\n\\s*\\*/\\n\\s*readonly ${key}\\b`).exec(source);
      expect(doc?.[1], key).toBe(typeof value === 'string' ? `'${value}'` : String(value));
    }
  });
});
