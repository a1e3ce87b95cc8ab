import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { InlineCode, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, type FunctionSpec, WS_STAGE } from '../../contract/manifest.ts';
import { MEDIA_BUCKET, SAFE_BUCKET, TABLE_NAMES, TABLES, type TableName } from '../../contract/schema.ts';
import { readConfig } from '../../lib/config.ts';
import { nagPacks } from '../../lib/nag.ts';
import { Switchyard } from '../../lib/switchyard.ts';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const cdkContext = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
}

/** What cdk-nag left unacknowledged, as "severity rule" lines, from CDK's validation report. */
function nagFindings(outdir: string): string[] {
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((v) => `${v.severity} ${v.ruleName}`),
  );
}

/** Every acknowledgement in the tree, as [construct path, finding id, reason]. */
function acknowledgements(root: IConstruct): [string, string, string][] {
  const found: [string, string, string][] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push([construct.node.path, id.replace(/^annotation::/i, ''), reason]);
      }
    }
  }
  return found;
}

/** The app as bin/switchyard.ts builds it, with the cdk-nag plugin; no bundling. */
function nagApp(functions?: Readonly<Record<string, FunctionSpec>>, context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'switchyard-nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { ...cdkContext, ...context, 'aws:cdk:bundling-stacks': [] } });
  new Switchyard(app, 'Switchyard', { ...readConfig(app), ...(functions ? { functions } : {}) });
  Validations.of(app).addPlugins(...nagPacks(app));
  return { app, outdir };
}

/** Exercises the acknowledgements that depend on the manifest: bucket objects, @connections. */
const EVERYTHING: FunctionSpec = {
  entry: FUNCTIONS.wsDefault.entry,
  httpRoutes: ['ANY /infra-test/{proxy+}'],
  wsRoutes: ['infraTestSend'],
  tables: { mailbox: ['dynamodb:PutItem'], identities: ['dynamodb:Query'] },
  safeBucket: ['s3:GetObject', 's3:PutObject'],
  manageConnections: true,
};

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

/** Verification codes by e-mail (SES) and SMS (SNS): the SMS grant is the one on "*". */
const CODES_ON = { verificationEmailFrom: 'codes@example.org', verificationSms: true };

/** Custom domains with a certificate validated in a hosted zone, and alarm notices by e-mail. */
const DOMAINS_AND_ALARM_EMAIL = {
  alarmEmail: 'ops@example.org',
  httpDomainName: 'api.example.org',
  webSocketDomainName: 'chat.example.org',
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  hostedZoneName: 'example.org',
};

/** Deliberate deviations every manifest function has, acknowledged on its Lambda function. */
const PER_FUNCTION = [/^Serverless-LambdaTracing$/, /^Serverless-LambdaDLQ$/];

describe.each([
  ['the real manifest', undefined, {}],
  ['an extra function with bucket and push access', { ...FUNCTIONS, everything: EVERYTHING }, {}],
  ['the real manifest with e-mail and SMS verification codes', undefined, CODES_ON],
  ['the real manifest with custom domains and alarm e-mails', undefined, DOMAINS_AND_ALARM_EMAIL],
  [
    'an extra function with a customer-managed key and SMS codes',
    { ...FUNCTIONS, everything: EVERYTHING },
    { customerManagedKey: true, ...CODES_ON },
  ],
] as const)('cdk-nag AwsSolutions over %s', (_, functions, context) => {
  let app: App;
  let outdir: string;
  beforeAll(() => {
    ({ app, outdir } = nagApp(functions, context));
    // Throws ValidationFailed if any error-level finding is unacknowledged.
    app.synth();
  });

  it('leaves no finding of either pack unacknowledged, errors or warnings', () => {
    expect(nagFindings(outdir)).toEqual([]);
    for (const pack of nagPacks(app)) expect(pack.validateScope(app).violations).toEqual([]);
  });

  it('gives every acknowledgement a written reason', () => {
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const [path, id, reason] of acks) expect(reason.trim().length, `${path} ${id}`).toBeGreaterThan(40);
  });

  it('acknowledges only the deliberate deviations, each on the construct that causes it', () => {
    const specs: Readonly<Record<string, FunctionSpec>> = functions ?? FUNCTIONS;
    const expected: [string, RegExp][] = [
      ...TABLE_NAMES.filter((t) => !TABLES[t].pointInTimeRecovery).map((t): [string, RegExp] => [
        `Switchyard/Stateful/${TABLES[t].logicalName}`,
        /^AwsSolutions-DDB3$/,
      ]),
      ['Switchyard/Stateful/safe', /^AwsSolutions-S1$/],
      ['Switchyard/Stateful/media', /^AwsSolutions-S1$/],
      ['Switchyard/Api', /^@aws-cdk\/core:crossStackReferencesBothTransitional$/],
      ['Switchyard/Stateful/ServerKey', /^AwsSolutions-SMG4$/],
      ...(Object.values(specs).some((spec) => spec.holdsVaultSetup)
        ? [['Switchyard/Api/VaultSetup/Secret', /^AwsSolutions-SMG4$/] as [string, RegExp]]
        : []),
      ...(Object.values(specs).some((spec) => spec.pushCredentials)
        ? [['Switchyard/Api/PushCredentials/VapidKey', /^AwsSolutions-SMG4$/] as [string, RegExp]]
        : []),
      ['Switchyard/Api/WebSocketStage', /^AwsSolutions-APIG1$/],
      ['Switchyard/Api/HttpStage', /^AwsSolutions-APIG1$/],
      ['Switchyard/Api/WebSocketStage', /^Serverless-APIGWAccessLogging$/],
      ['Switchyard/Api/HttpStage', /^Serverless-APIGWAccessLogging$/],
      ...PER_FUNCTION.map((id): [string, RegExp] => ['Switchyard/Api/ServerPublicKeyResource/Function', id]),
      ...('alarmEmail' in context
        ? [['Switchyard/Api/Alarms/Topic', /^Serverless-SNSRedrivePolicy$/] as [string, RegExp]]
        : []),
      ['Switchyard/Api/WebSocketApi', /^AwsSolutions-APIG4$/],
      ['Switchyard/Api/HttpApi', /^AwsSolutions-APIG4$/],
      ...Object.entries(specs).flatMap(([name, spec]) => {
        // An IAM5 wildcard finding, acknowledged on the function, for a resource ending in `suffix`.
        const wildcard = (suffix: string): [string, RegExp] => [
          `Switchyard/Api/${name}`,
          new RegExp(`^AwsSolutions-IAM5\\[Resource::.+${suffix.replace(/[*/]/g, '\\$&')}\\]$`),
        ];
        const indexed = (Object.keys(spec.tables) as TableName[]).filter(
          (table) =>
            ('indexes' in TABLES[table] || 'localIndexes' in TABLES[table]) &&
            (spec.tables[table] ?? []).length > 0,
        );
        return [
          ...PER_FUNCTION.map((id): [string, RegExp] => [`Switchyard/Api/${name}/Function`, id]),
          ...(spec.schedule
            ? [[`Switchyard/Api/${name}Schedule`, /^Serverless-EventBusDLQ$/] as [string, RegExp]]
            : []),
          ...(spec.stream
            ? ([
                [`Switchyard/Api/${name}Stream/DeadLetters`, /^AwsSolutions-SQS3$/],
                [`Switchyard/Api/${name}Stream/DeadLetters`, /^Serverless-SQSRedrivePolicy$/],
                [`Switchyard/Api/${name}`, /^AwsSolutions-IAM5\[Resource::\*\]$/],
              ] as [string, RegExp][])
            : []),
          ...indexed.map(() => wildcard('/index/*')),
          ...(spec.safeBucket.length > 0 ? [wildcard(`/${SAFE_BUCKET.backupPrefix}*`)] : []),
          ...((spec.mediaBucket ?? []).length > 0 ? [wildcard(`/${MEDIA_BUCKET.blobPrefix}*`)] : []),
          ...(spec.manageConnections ? [wildcard(`/${WS_STAGE}/*/@connections/*`)] : []),
          ...(spec.sendsVerificationCodes && 'verificationSms' in context && context.verificationSms
            ? [[`Switchyard/Api/${name}`, /^AwsSolutions-IAM5\[Resource::\*\]$/] as [string, RegExp]]
            : []),
        ];
      }),
    ];
    const acks = acknowledgements(app);
    expect(acks).toHaveLength(expected.length);
    for (const [path, pattern] of expected) {
      expect(
        acks.some(([p, id]) => p === path && pattern.test(id)),
        `${path} ${pattern}`,
      ).toBe(true);
    }
  });
});

describe('cdk-nag wiring', () => {
  it.each([
    ['AwsSolutions', (stack: Stack) => new Bucket(stack, 'Bucket'), /AwsSolutions-S1/],
    [
      'Serverless',
      (stack: Stack) =>
        new LambdaFunction(stack, 'Function', {
          runtime: Runtime.NODEJS_24_X,
          handler: 'index.handler',
          code: new InlineCode('exports.handler = async () => 1;'),
        }),
      /Serverless-LambdaDLQ/,
    ],
  ] as const)(
    'fails the synth of the Switchyard app on an unacknowledged %s error',
    (_, careless, finding) => {
      const { app } = nagApp();
      careless(new Stack(app, 'Careless'));
      expect(() => app.synth()).toThrow(finding);
    },
  );

  // Bundles every function with esbuild, like `cdk synth`: slow on a busy 2-core machine.
  it('runs in bin/switchyard.ts: the real app synthesizes clean, with ESM bundles', {
    timeout: 180_000,
  }, () => {
    const outdir = mkdtempSync(join(tmpdir(), 'switchyard-bin-'));
    outdirs.push(outdir);
    // The CDK CLI runs the app like this: cdk.json's context in CDK_CONTEXT_JSON, output in CDK_OUTDIR.
    execFileSync(process.execPath, ['--import', 'tsx', 'bin/switchyard.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(cdkContext) },
      stdio: 'pipe',
    });
    expect(nagFindings(outdir)).toEqual([]);
    // The stacks keep the names the deployments made before the construct have: nothing is renamed.
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; displayName?: string; properties?: Record<string, string> }>;
    };
    const stacks = Object.values(manifest.artifacts).filter((a) => a.type === 'aws:cloudformation:stack');
    expect(stacks.map((a) => [a.displayName, a.properties?.stackName])).toEqual([
      ['Switchyard/Stateful', 'SwitchyardStateful'],
      ['Switchyard/Api', 'SwitchyardApi'],
    ]);
    for (const stack of stacks) {
      expect(existsSync(join(outdir, stack.properties!.templateFile!)), stack.displayName).toBe(true);
    }
    const bundles = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    // One per manifest function, plus the server-public-key custom resource.
    expect(bundles).toHaveLength(Object.keys(FUNCTIONS).length + 1);
    for (const bundle of bundles) {
      expect(readFileSync(join(outdir, bundle, 'index.mjs'), 'utf8')).toMatch(/^import \{ createRequire \}/);
    }
  });
});
