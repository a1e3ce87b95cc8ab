/**
 * cdk-nag helpers (AwsSolutions and Serverless packs). Every finding that stays is acknowledged on
 * the narrowest construct that causes it, with a reason that says why the rule does not fit
 * Switchyard.
 */
import {
  type App,
  CfnOutput,
  Fn,
  type IResolvable,
  type IResolveContext,
  Reference,
  Stack,
  Token,
  Tokenization,
  Validations,
} from 'aws-cdk-lib';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import { Construct, type IConstruct } from 'constructs';

/** A cdk-nag finding id: the pack's prefix and the rule, e.g. `AwsSolutions-IAM5`, `Serverless-LambdaDLQ`. */
export type FindingId = `${'AwsSolutions' | 'Serverless'}-${string}`;

/** Acknowledges one cdk-nag finding on `scope` (and everything below it). */
export function acknowledge(scope: IConstruct, id: FindingId, reason: string): void {
  if (reason.trim() === '') throw new Error(`cdk-nag acknowledgement of ${id} needs a reason`);
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings a grant's wildcard resources cause (an object
 * prefix, a stage's `@connections/*`, a table's `index/*`). cdk-nag 3 matches finding ids exactly, and names a
 * wildcard resource by the flattened CloudFormation expression the policy will contain, so the
 * id is computed here from the grant itself instead of being pasted from a synth.
 */
export function acknowledgeWildcardResources(scope: IConstruct, grant: Grant, reason: string): void {
  const consumer = Stack.of(scope);
  for (const statement of grant.principalStatements) {
    for (const resource of statement.resources) {
      const flat = flattenCfnReference(consumer.resolve(asSeenFrom(consumer, resource)));
      if (flat.includes('*')) acknowledge(scope, `AwsSolutions-IAM5[Resource::${flat}]`, reason);
    }
  }
}

/**
 * Rewrites references to resources of other stacks into the `Fn::GetStackOutput` that CDK's weak
 * cross-stack references put into the consumer's template (lib/switchyard.ts says why they are
 * weak). The output is found or created the way aws-cdk-lib's own `createGetStackOutput` does (a
 * CfnOutput under the producer's `Publish` scope, its id the resolved reference), so CDK then reuses
 * it: test/infra/nag.test.ts fails the synth if the two ever disagree. Lazy values (a table grant's
 * `…/index/*`) are looked into, since the references they produce need the same rewrite.
 */
function asSeenFrom(consumer: Stack, value: string): unknown {
  return Tokenization.reverseString(value)
    .mapTokens({ mapToken: (token) => mapToken(consumer, token) })
    .join({ join: (left: unknown, right: unknown) => `${left ?? ''}${right ?? ''}` });
}

function mapToken(consumer: Stack, token: IResolvable): unknown {
  if (Reference.isReference(token)) {
    const producer = Stack.of(token.target);
    return producer === consumer ? token : stackOutput(producer, token);
  }
  const inner: unknown = token.resolve(shallowContext(consumer));
  return typeof inner === 'string' ? asSeenFrom(consumer, inner) : token;
}

function stackOutput(producer: Stack, reference: Reference): string {
  const scope = producer.node.tryFindChild('Publish') ?? new Construct(producer, 'Publish');
  const id = `Output${JSON.stringify(producer.resolve(reference))}`;
  const output =
    (scope.node.tryFindChild(id) as CfnOutput | undefined) ??
    new CfnOutput(scope, id, { value: Token.asString(reference) });
  return Fn.getStackOutput(producer.stackName, output.logicalId, producer.region);
}

/** Lets a token produce its value without resolving what that value contains. */
function shallowContext(scope: Stack): IResolveContext {
  return {
    scope,
    preparing: false,
    documentPath: [],
    resolve: (x: unknown) => x,
    registerPostProcessor: () => undefined,
  };
}

/** cdk-nag's own flattening of a CloudFormation expression (cdk-nag/lib/utils/flatten-cfn-reference). */
function flattenCfnReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const obj = node as Record<string, unknown>;
  if (obj['Fn::Join']) {
    const [delimiter, items] = obj['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (obj['Fn::Sub']) return flattenCfnReference(obj['Fn::Sub']);
  if (obj['Fn::GetAtt']) {
    const [resource, attribute] = obj['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (obj.Ref) return `<${flattenCfnReference(obj.Ref)}>`;
  return JSON.stringify(node);
}

/** The cdk-nag packs every synth of bin/switchyard.ts runs (an unacknowledged error finding fails it). */
export function nagPacks(app: App): NagPack[] {
  return [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
}
