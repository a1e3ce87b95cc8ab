/**
 * Which AWS SDK packages a function loads, from what its manifest entry grants it: those it uses on
 * every cold start are imported with the function; those only some deployments or few requests use
 * are imported on first use (verification codes, the Safe's optional Basic auth secret). The bundle
 * test checks every entry against this, and the P5 benchmark reports it.
 */
import type { FunctionSpec } from '../../../contract/manifest.ts';

export interface SdkPackages {
  /** Imported when the function loads. */
  readonly atLoad: readonly string[];
  /** Imported by `import()` the first time they are needed, if ever. */
  readonly onFirstUse: readonly string[];
}

export function sdkPackages(spec: FunctionSpec): SdkPackages {
  const atLoad: string[] = [];
  const onFirstUse: string[] = [];
  if (Object.keys(spec.tables).length > 0) atLoad.push('@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb');
  const media = spec.mediaBucket ?? [];
  if (spec.safeBucket.length > 0 || media.length > 0) atLoad.push('@aws-sdk/client-s3');
  // Presigning media URLs (both ship with the Lambda Node.js runtime, like the clients).
  if (spec.presignsMedia && media.includes('s3:PutObject')) atLoad.push('@aws-sdk/s3-presigned-post');
  if (spec.presignsMedia && media.includes('s3:GetObject')) atLoad.push('@aws-sdk/s3-request-presigner');
  if (spec.manageConnections) atLoad.push('@aws-sdk/client-apigatewaymanagementapi');
  if (spec.readsServerKey || spec.holdsVaultSetup || spec.pushCredentials)
    atLoad.push('@aws-sdk/client-secrets-manager');
  if (spec.readsSafeAuthSecret) onFirstUse.push('@aws-sdk/client-secrets-manager');
  if (spec.sendsVerificationCodes) onFirstUse.push('@aws-sdk/client-sesv2', '@aws-sdk/client-sns');
  return { atLoad: atLoad.sort(), onFirstUse: onFirstUse.sort() };
}
