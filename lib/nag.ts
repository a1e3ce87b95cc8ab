/**
 * cdk-nag helpers (AwsSolutions and Serverless packs). Every finding that stays is acknowledged on
 * the narrowest construct that causes it, with a reason that says why the rule does not fit
 * Switchyard.
 */
import {
  type IResolvable,
  type IResolveContext,
  Reference,
  Stack,
  Tokenization,
  Validations,
} from 'aws-cdk-lib';
import type { Grant } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

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
 * Rewrites references to resources of other stacks into the `Fn::ImportValue` that CDK's
 * (strong, same-Region) cross-stack references put into the consumer's template. `exportValue`
 * is CDK's documented way to get that very export; it is idempotent. Lazy values (a table grant's
 * `…/index/*`) are looked into, since the references they produce need the same rewrite.
 */
function asSeenFrom(consumer: Stack, value: string): unknown {
  return Tokenization.reverseString(value)
    .mapTokens({ mapToken: (token) => mapToken(consumer, token) })
    .join({ join: (left: unknown, right: unknown) => `${left ?? ''}${right ?? ''}` });
}

function mapToken(consumer: Stack, token: IResolvable): unknown {
  if (Reference.isReference(token)) {
    return Stack.of(token.target) === consumer ? token : Stack.of(token.target).exportValue(token);
  }
  const inner: unknown = token.resolve(shallowContext(consumer));
  return typeof inner === 'string' ? asSeenFrom(consumer, inner) : token;
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
  if (obj['Fn::ImportValue']) return flattenCfnReference(obj['Fn::ImportValue']);
  if (obj.Ref) return `<${flattenCfnReference(obj.Ref)}>`;
  return JSON.stringify(node);
}
