/**
 * Stateful resources: the DynamoDB tables and the Safe bucket, all RETAIN, none with a physical
 * name. Kept apart from the API stack so functions and routes can be replaced freely while user
 * data stays put. Everything about them comes from the schema module.
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import {
  type KeyAttribute,
  SAFE_BUCKET,
  TABLE_NAMES,
  TABLES,
  type TableName,
} from '../lambdas/adapters/schema.ts';
import type { SwitchyardConfig } from './config.ts';
import { acknowledge } from './nag.ts';

export interface StatefulStackProps extends StackProps {
  readonly config: SwitchyardConfig;
}

export class StatefulStack extends Stack {
  /** Every table of the schema module, by its logical name. */
  readonly tables: Readonly<Record<TableName, Table>>;
  /** Anonymous Threema-Safe-compatible backups, one object per backup under SAFE_BUCKET.backupPrefix. */
  readonly safeBucket: Bucket;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);

    const tables = {} as Record<TableName, Table>;
    for (const name of TABLE_NAMES) tables[name] = this.table(name);
    this.tables = tables;

    this.safeBucket = new Bucket(this, SAFE_BUCKET.logicalName, {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: BucketEncryption.S3_MANAGED,
      // No versioning: a deleted or overwritten backup must be gone, not kept as a noncurrent version.
      versioned: false,
      lifecycleRules: [
        {
          id: 'expire-backups',
          prefix: SAFE_BUCKET.backupPrefix,
          // Counted from the object's creation; every PUT writes a new object (no versioning), so
          // this is "retentionDays after the last PUT", as Threema Safe specifies. The Safe handler
          // also checks the age on read, since lifecycle expiry runs lazily.
          expiration: Duration.days(props.config.safeRetentionDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.safeBucket,
      'S1',
      'No server access logs on purpose: they would record source IPs and backup ids next to each ' +
        'other, which the metadata-restraint invariant forbids (docs: DESIGN.md, Safe).',
    );
  }

  private table(name: TableName): Table {
    const schema = TABLES[name];
    const table = new Table(this, schema.logicalName, {
      partitionKey: keyAttribute(schema.partitionKey),
      sortKey: 'sortKey' in schema ? keyAttribute(schema.sortKey) : undefined,
      timeToLiveAttribute: 'ttlAttribute' in schema ? schema.ttlAttribute : undefined,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: schema.pointInTimeRecovery },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of 'indexes' in schema ? schema.indexes : []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: keyAttribute(index.partitionKey),
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.include],
      });
    }
    if (!schema.pointInTimeRecovery) {
      acknowledge(
        table,
        'DDB3',
        `Point-in-time recovery is off for ${name} on purpose (schema module): it would keep deleted ` +
          'and expired items (delivered messages, sessions, challenges) restorable for 35 days, ' +
          'breaking delete-on-delivery and data minimisation.',
      );
    }
    return table;
  }
}

function keyAttribute(key: KeyAttribute): { name: string; type: AttributeType } {
  const types = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;
  return { name: key.name, type: types[key.type] };
}
