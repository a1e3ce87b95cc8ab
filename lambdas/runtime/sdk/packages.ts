/**
 * Which AWS SDK packages a function loads, from what its manifest entry grants it: those it uses on
 * every cold start are imported with the function; those only some deployments or few requests use
 * are imported on first use (verification codes, the Safe's optional Basic auth secret), so their
 * code sits in chunks of the bundle a cold start does not load. The bundle test checks every entry
 * against this, and the P5 benchmark reports it.
 */
import type { FunctionSpec } from '../../../contract/manifest.ts';

/** Every package `sdkPackages` may name: the clients and helpers Switchyard imports itself. */
export const SDK_PACKAGES = [
  '@aws-sdk/client-apigatewaymanagementapi',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sesv2',
  '@aws-sdk/client-sns',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/s3-presigned-post',
  '@aws-sdk/s3-request-presigner',
] as const;

export type SdkPackage = (typeof SDK_PACKAGES)[number];

export interface SdkPackages {
  /** Imported when the function loads. */
  readonly atLoad: readonly SdkPackage[];
  /** Imported by `import()` the first time they are needed, if ever. */
  readonly onFirstUse: readonly SdkPackage[];
}

export function sdkPackages(spec: FunctionSpec): SdkPackages {
  const atLoad: SdkPackage[] = [];
  const onFirstUse: SdkPackage[] = [];
  if (Object.keys(spec.tables).length > 0) atLoad.push('@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb');
  const media = spec.mediaBucket ?? [];
  if (spec.safeBucket.length > 0 || media.length > 0) atLoad.push('@aws-sdk/client-s3');
  // Presigning media URLs.
  if (spec.presignsMedia && media.includes('s3:PutObject')) atLoad.push('@aws-sdk/s3-presigned-post');
  if (spec.presignsMedia && media.includes('s3:GetObject')) atLoad.push('@aws-sdk/s3-request-presigner');
  if (spec.manageConnections) atLoad.push('@aws-sdk/client-apigatewaymanagementapi');
  if (spec.readsServerKey || spec.holdsVaultSetup || spec.pushCredentials)
    atLoad.push('@aws-sdk/client-secrets-manager');
  if (spec.readsSafeAuthSecret) onFirstUse.push('@aws-sdk/client-secrets-manager');
  if (spec.sendsVerificationCodes) onFirstUse.push('@aws-sdk/client-sesv2', '@aws-sdk/client-sns');
  return { atLoad: atLoad.sort(), onFirstUse: onFirstUse.sort() };
}
