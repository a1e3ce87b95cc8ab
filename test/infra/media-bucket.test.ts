/**
 * The media bucket (lib/stateful-stack.ts): the Safe bucket's secure defaults, its own lifecycle,
 * CORS only for configured web origins, and the one function that may touch it, with object
 * actions under the blob prefix only (no listing).
 */
import { readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MEDIA_BUCKET } from '../../contract/schema.ts';
import { readConfig } from '../../lib/config.ts';
import { Switchyard } from '../../lib/switchyard.ts';

type Json = Record<string, unknown>;
const cdkContext = JSON.parse(readFileSync('cdk.json', 'utf8')).context as Json;

function synth(context: Json = {}) {
  const app = new App({ context: { ...cdkContext, ...context, 'aws:cdk:bundling-stacks': [] } });
  const built = new Switchyard(app, 'Switchyard', readConfig(app));
  return {
    ...built,
    stateful: Template.fromStack(built.stateful),
    api: Template.fromStack(built.api),
    built,
  };
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

describe('media bucket', () => {
  const s = synth({ mediaTtlDays: 3 });
  const media = () =>
    s.stateful.findResources('AWS::S3::Bucket')[
      logicalId(s.built.stateful, s.built.stateful.mediaBucket)
    ] as {
      Properties: Json;
      DeletionPolicy: string;
    };

  it('is private, encrypted, unversioned, unlogged, unnamed, retained, and has no CORS by default', () => {
    const bucket = media();
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    for (const absent of [
      'LoggingConfiguration',
      'VersioningConfiguration',
      'BucketName',
      'CorsConfiguration',
    ])
      expect(bucket.Properties[absent], absent).toBeUndefined();
  });

  it('refuses requests without TLS', () => {
    s.stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(s.built.stateful, s.built.stateful.mediaBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires blobs after mediaTtlDays and stale multipart uploads after a day', () => {
    expect(media().Properties.LifecycleConfiguration).toEqual({
      Rules: [
        { Id: 'expire-blobs', Prefix: MEDIA_BUCKET.blobPrefix, ExpirationInDays: 3, Status: 'Enabled' },
        {
          Id: 'abort-incomplete-uploads',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          Status: 'Enabled',
        },
      ],
    });
  });

  it('allows exactly the configured web origins to POST and GET, nothing else', () => {
    const withWeb = synth({ webOrigins: 'https://chat.example.org' });
    const bucket = withWeb.stateful.findResources('AWS::S3::Bucket')[
      logicalId(withWeb.built.stateful, withWeb.built.stateful.mediaBucket)
    ] as { Properties: Json };
    expect(bucket.Properties.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedOrigins: ['https://chat.example.org'],
          AllowedMethods: ['POST', 'GET'],
          AllowedHeaders: ['content-type', 'range'],
          MaxAge: 86400,
        },
      ],
    });
    // The Safe bucket never gets CORS.
    const safe = withWeb.stateful.findResources('AWS::S3::Bucket')[
      logicalId(withWeb.built.stateful, withWeb.built.stateful.safeBucket)
    ] as { Properties: Json };
    expect(safe.Properties.CorsConfiguration).toBeUndefined();
  });

  it('is reachable by wsBlob and health only, each with its object actions under the blob prefix and no listing', () => {
    const bucketId = logicalId(s.built.stateful, s.built.stateful.mediaBucket);
    const policies = Object.entries(s.api.findResources('AWS::IAM::Policy')).filter(([, policy]) =>
      JSON.stringify(policy).includes(bucketId),
    );
    // One policy per function: its logical id starts with the manifest name.
    const byFunction = new Map(policies.map(([id, policy]) => [id.replace(/Role.*$/, ''), policy]));
    expect([...byFunction.keys()].sort()).toEqual(['health', 'wsBlob']);
    const expected = {
      // Presigns uploads and downloads, deletes on "done".
      wsBlob: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      // Reads an object no blob can be named (GET /health).
      health: ['s3:GetObject'],
    };
    for (const [name, actions] of Object.entries(expected)) {
      const statements = (byFunction.get(name) as { Properties: { PolicyDocument: { Statement: Json[] } } })
        .Properties.PolicyDocument.Statement;
      const onMedia = statements.filter((statement) => JSON.stringify(statement).includes(bucketId));
      expect(onMedia, name).toHaveLength(1);
      expect([onMedia[0]!.Action].flat().sort(), name).toEqual(actions);
      expect(JSON.stringify(onMedia[0]!.Resource), name).toContain(`/${MEDIA_BUCKET.blobPrefix}*`);
      expect(JSON.stringify(statements), name).not.toContain('s3:ListBucket');
    }
  });
});
