/**
 * `npm run fuzz`: every HTTP route and every WebSocket action of one local runner gets FUZZ_RUNS
 * generated inputs (default 10 000 per route) over real HTTP and WebSocket connections: arbitrary
 * strings, JSON, bytes, and near-valid requests (a valid shape with one field mutated or dropped).
 * Directory owner operations (featureMask, link, confirm, unlink, revocationPassword, export, match)
 * and registration also get signed inputs (`sendSigned`): a real challenge, a correct proof (and for
 * registration the real proof of work), with one field mutated before signing or one body field
 * changed after it, so the code behind the proof check runs too.
 *
 * Each input must yield a documented answer — a 2xx, or an error status with a JSON
 * `{"error": code}` body whose code is in protocol/errors.ts and matches the status, never
 * `internal`/500; for WebSocket a documented frame, after which the same connection still answers
 * an echo. Routes with a `valid` generator add FUZZ_RUNS/20 unmutated valid inputs: each must get
 * its 2xx, and at least one must, so a route that refuses everything fails. Around each route's
 * batch the four tables and the Safe bucket are snapshotted, and every difference must be
 * explained by an input the server accepted, by exactly what it writes (see `explain`: a rate
 * window grows by the accepted requests counted there, a `used:` marker is the digest of an
 * accepted proof or stamp, a challenge item is new and of a returned token's slot…). The runner's
 * log lines must all parse and carry no `internal` code.
 *
 * Reproduce a failure with FUZZ_SEED=<the printed seed>. Not part of `npm test`.
 */
import { createHash } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, MOCK_WS_ROUTES } from '../../contract/manifest.ts';
import { TABLE_NAMES, TABLES, type TableName, type TableSchema } from '../../contract/schema.ts';
import { dynamoVaultStore } from '../../lambdas/adapters/vault.ts';
import { rateWindow } from '../../lambdas/domain/directory/proofs.ts';
import { OWNER_PURPOSES } from '../../lambdas/domain/directory.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import {
  b64,
  clientFrameNonce,
  FLAGS,
  FRAME_COUNTER_BYTES,
  fromB64,
  MESSAGE_ID_BYTES,
  NONCE_BYTES,
  openFrame,
  parseSend,
  sealFrame,
} from '../../protocol/chat.ts';
import { generateKeyPair, randomBytes } from '../../protocol/crypto.ts';
import { answerChallenge, canonicalJson } from '../../protocol/directory.ts';
import { ERROR_CODES } from '../../protocol/errors.ts';
import { ECHO_FRAME } from '../../protocol/frames.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { solveWork, workSeed } from '../../protocol/work.ts';
import { RawClient, registerIdentity, type TestIdentity } from '../support/chat.ts';
import { eventually, startTestRunner, type TestRunner } from '../support/runner.ts';
import { openSocket, type TestSocket } from '../support/ws.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 12);
const MAX_BACKUP_BYTES = 4096;

let harness: TestRunner;
let owner: TestIdentity; // has a revocation-less identity record that no fuzzed input may change
let recipient: TestIdentity; // target of near-valid sends
/** The identities the session-frame fuzzers log in as: at most LIMITS.connectionsPerIdentity sessions each. */
let fuzzers: TestIdentity[];
const SEEDED_BACKUP = 'ab'.repeat(32);
const timings: string[] = [];

// ─── Snapshots ──────────────────────────────────────────────────────────────────────────────────

type Snapshot = Map<string, string>; // "table|key" → canonical item

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v instanceof Uint8Array
      ? `bytes:${toHex(v)}`
      : v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
        : v,
  );
}

async function snapshot(): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const table of TABLE_NAMES) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await harness.clients.dynamo.send(
        new ScanCommand({
          TableName: harness.runner.tables[table],
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        const key =
          table === 'identities'
            ? item.identity
            : table === 'mailbox'
              ? `${item.recipient}|${item.key}`
              : table === 'connections'
                ? item.connectionId
                : table === 'vault'
                  ? `${item.identity}|${item.item}`
                  : item.key;
        out.set(`${table}|${String(key)}`, canonical(item));
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  let token: string | undefined;
  do {
    const page = await harness.clients.s3.send(
      new ListObjectsV2Command({ Bucket: harness.runner.safeBucket, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      out.set(`s3|${object.Key}`, `${object.ETag}|${object.Size}|${object.LastModified?.getTime()}`);
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/** What accepted inputs of a batch may legitimately have changed. */
interface Accepted {
  challengeTokens: Set<string>;
  backupIds: Set<string>; // ids of 2xx PUT/DELETE
  sendIds: Set<string>; // hex message ids of sendAck'd sends
  sends: number;
  /** Hex ids of sends that parse and asked for no server ack (flag 0x04): accepted unless refused. */
  noAckIds: Set<string>;
  /** Hex ids named by a sendError, whenever it arrived. */
  refusedIds: Set<string>;
  /** What each parsed send would store, by hex id: nothing (no-queue flag) or one item per recipient. */
  sendStores: Map<string, { recipient: string; bytes: number }[]>;
  /** When each parsed send left (ms), for the window it counts in. */
  sentAt: Map<string, number>;
  /**
   * Rate-window increments accepted inputs explain, by ephemeral key: `sure` when the window was
   * the same when the request left and when its answer came, `maybe` when it straddled a window edge
   * (then either window may hold it).
   */
  rates: Map<string, { sure: number; maybe: number; endsAt: number }>;
  /** Hex `used:` markers of proofs and work stamps the server accepted (a 2xx, or a refusal after the proof). */
  usedMarkers: Set<string>;
  /** Identities a 2xx registration of this batch created. */
  created: Set<string>;
  /** Per identity: the feature masks accepted updates set, and whether an authenticated operation ran. */
  owners: Map<string, { featureMasks: Set<number>; authenticated: boolean; revocation: boolean }>;
  /** `link:<identity>:<kind>` pending links that a 2xx `link` wrote. */
  links: Set<string>;
  /** Inputs generated as valid (unmutated, signed where needed) that got their 2xx. */
  validAccepted: number;
  /** Send frames whose payload parses: each may count (sampled, by 8) in the sender's window. */
  sendFrames: number;
}
const newAccepted = (): Accepted => ({
  challengeTokens: new Set(),
  backupIds: new Set(),
  sendIds: new Set(),
  sends: 0,
  noAckIds: new Set(),
  refusedIds: new Set(),
  sendStores: new Map(),
  sentAt: new Map(),
  rates: new Map(),
  usedMarkers: new Set(),
  created: new Set(),
  owners: new Map(),
  links: new Set(),
  validAccepted: 0,
  sendFrames: 0,
});

/**
 * Counts `amount` into the rate window the server used for (scope, subject) somewhere between
 * `startMs` and now: `sure` if that is one window, else `maybe` in each window of the span.
 */
function noteRate(
  accepted: Accepted,
  scope: string,
  subject: string,
  windowSeconds: number,
  amount: number,
  startMs: number,
) {
  const keys = new Map<string, number>();
  const end = Math.floor(Date.now() / 1000);
  for (let t = Math.floor(startMs / 1000); ; t = Math.min(t + windowSeconds, end)) {
    const window = rateWindow(scope, subject, windowSeconds, t);
    keys.set(`rate:${window.key}`, window.endsAt);
    if (t >= end) break;
  }
  for (const [key, endsAt] of keys) {
    const entry = accepted.rates.get(key) ?? { sure: 0, maybe: 0, endsAt };
    if (keys.size === 1) entry.sure += amount;
    else entry.maybe += amount;
    accepted.rates.set(key, entry);
  }
}

function ownerEntry(accepted: Accepted, identity: string) {
  const entry = accepted.owners.get(identity) ?? {
    featureMasks: new Set<number>(),
    authenticated: false,
    revocation: false,
  };
  accepted.owners.set(identity, entry);
  return entry;
}

/** The server's `used:` marker: SHA-256 of its parts, first 16 bytes (lambdas/domain/directory/proofs.ts `once`). */
function usedMarker(...parts: (string | Uint8Array)[]): string {
  const digest = createHash('sha256');
  for (const part of parts) digest.update(part);
  return `used:${digest.digest('hex').slice(0, 32)}`;
}

const number = (item: string | undefined, field: string) =>
  item === undefined ? 0 : Number((JSON.parse(item) as Record<string, unknown>)[field] ?? 0);

/**
 * A difference is explained only by an input the server accepted (nothing else is ignored):
 * - `rate:<window>`: its count grew by exactly what accepted inputs of this batch count there (a
 *   2xx `link` 1 on the identity's code window, a 2xx `match` its hashes on its match window, a 2xx
 *   registration 1 on the deployment's window, an accepted queued send 1 on the sender's window);
 * - `challenge:<slot>`: added, for a slot whose token a 2xx challenge answer of this batch returned;
 * - `used:<digest>`: added, and the digest of a proof or work stamp the server accepted;
 * - `link:<identity>:<kind>`: a pending link a 2xx `link` wrote;
 * - identities: added by a 2xx registration; otherwise only `lastLogin` (an authenticated owner
 *   operation of this batch), `featureMask` (to a value an accepted update set) and `revocation`
 *   (a 2xx `revocationPassword`) may change;
 * - connections records that did not exist before the batch: the fuzzer's own new sockets;
 * - Safe objects named by a backup id that a 2xx PUT or DELETE of this batch used;
 * - mailbox: added message items of accepted queued sends, and each recipient's `#owner` record:
 *   made if missing, its sampled counters grown by multiples of 8 within 8 × their count and bytes
 *   (or set by a recount), sessions only removed;
 * - connections: the replay slots and send block of existing records;
 * - the sender's send windows grown by multiples of 8 within 8 × the parsed send frames.
 */
function explain(
  table: string,
  key: string,
  before: string | undefined,
  after: string | undefined,
  accepted: Accepted,
): boolean {
  if (table === 'ephemeral') {
    if (key.startsWith('rate:send:')) {
      // Sampled (PROTOCOL.md, "The send rate"): each parsed send frame adds 0 or 8.
      const grown = number(after, 'count') - number(before, 'count');
      return (
        after !== undefined && grown >= 0 && grown % sample === 0 && grown <= sample * accepted.sendFrames
      );
    }
    if (key.startsWith('rate:')) {
      const expected = accepted.rates.get(key);
      if (!expected || after === undefined) return false;
      const grown = number(after, 'count') - number(before, 'count');
      return grown >= expected.sure && grown <= expected.sure + expected.maybe;
    }
    if (before !== undefined || after === undefined) return false; // only additions below
    if (key.startsWith('challenge:'))
      // A token's first 8 bytes (16 hex characters) are its slot, big-endian.
      return [...accepted.challengeTokens].some(
        (token) => BigInt(`0x${token.slice(0, 16)}`).toString() === key.slice('challenge:'.length),
      );
    if (key.startsWith('used:')) return accepted.usedMarkers.has(key);
    if (key.startsWith('link:')) return accepted.links.has(key);
    return false;
  }
  // Removed: only a Safe object an accepted DELETE named (expired items are allowed by the caller).
  if (table === 's3') return [...accepted.backupIds].some((id) => key.includes(id));
  if (table === 'ephemeral' || after === undefined) return false;
  if (table === 'identities') {
    if (before === undefined) return accepted.created.has(key);
    const owner = accepted.owners.get(key);
    if (!owner) return false;
    const was = JSON.parse(before) as Record<string, unknown>;
    const now = JSON.parse(after) as Record<string, unknown>;
    return [...new Set([...Object.keys(was), ...Object.keys(now)])].every(
      (field) =>
        canonical(was[field]) === canonical(now[field]) ||
        (field === 'lastLogin' && owner.authenticated) ||
        (field === 'featureMask' && owner.featureMasks.has(now[field] as number)) ||
        (field === 'revocation' && owner.revocation),
    );
  }
  // New records: the fuzzer's own sockets. Existing ones: only the replay slots and the send block.
  if (table === 'connections')
    return before === undefined || onlyChanged(before, after, ['replay', 'blockedUntil']);
  if (table === 'mailbox') {
    const [recipient, itemKey] = key.split('|') as [string, string];
    const stored = [...accepted.sendIds].flatMap((id) =>
      (accepted.sendStores.get(id) ?? []).map((s) => ({ ...s, id })),
    );
    if (itemKey.startsWith('m#'))
      return (
        before === undefined && stored.some((s) => s.recipient === recipient && itemKey.endsWith(`#${s.id}`))
      );
    if (itemKey !== '#owner') return false;
    const now = JSON.parse(after) as Record<string, unknown>;
    // Made for a recipient that had none (an identity from before owner records, or a new one).
    if (before === undefined) return now.active === true && number(after, 'count') % sample === 0;
    if (!onlyChanged(before, after, ['count', 'bytes', 'recountedAt', 'heavy', 'sessions'])) return false;
    const was = JSON.parse(before) as Record<string, unknown>;
    // Sessions only go (a push that met 410).
    const sessions = (value: unknown) => Object.keys((value ?? {}) as object);
    if (sessions(now.sessions).some((id) => !sessions(was.sessions).includes(id))) return false;
    // A recount sets the counters to what it found.
    if (canonical(was.recountedAt) !== canonical(now.recountedAt)) return true;
    const mine = stored.filter((s) => s.recipient === recipient);
    const count = number(after, 'count') - number(before, 'count');
    const bytes = number(after, 'bytes') - number(before, 'bytes');
    return (
      count >= 0 &&
      count % sample === 0 &&
      count <= sample * mine.length &&
      bytes >= 0 &&
      bytes % sample === 0 &&
      bytes <= sample * mine.reduce((sum, s) => sum + s.bytes, 0)
    );
  }
  return false;
}

/** Whether two canonical items differ only in `fields`. */
function onlyChanged(before: string, after: string, fields: readonly string[]): boolean {
  const was = JSON.parse(before) as Record<string, unknown>;
  const now = JSON.parse(after) as Record<string, unknown>;
  return [...new Set([...Object.keys(was), ...Object.keys(now)])].every(
    (field) => fields.includes(field) || canonical(was[field]) === canonical(now[field]),
  );
}

const sample = LIMITS.quotaSampleEvery;

function unexplainedChanges(before: Snapshot, after: Snapshot, accepted: Accepted): string[] {
  const out: string[] = [];
  const split = (k: string) => {
    const [table, ...rest] = k.split('|');
    return [table!, rest.join('|')] as const;
  };
  for (const [k, v] of after) {
    const [table, key] = split(k);
    if (before.get(k) !== v && !explain(table, key, before.get(k), v, accepted))
      out.push(`${before.has(k) ? 'changed' : 'added'} ${k}: ${before.get(k) ?? ''} → ${v}`.slice(0, 400));
  }
  // An accepted input must also have counted: a window that did not grow by what was accepted.
  for (const [key, expected] of accepted.rates) {
    const k = `ephemeral|${key}`;
    // A window that has ended may be gone already (TTL), like any expired item.
    if (!after.has(k) && expected.endsAt <= Date.now() / 1000) continue;
    if (expected.sure > 0 && before.get(k) === after.get(k))
      out.push(`unchanged ${k}: accepted inputs counted ${expected.sure} there`);
  }
  const now = Math.floor(Date.now() / 1000);
  for (const [k, v] of before) {
    if (after.has(k)) continue;
    const [table, key] = split(k);
    if (explain(table, key, v, undefined, accepted)) continue;
    // An item past its expiry may go at any time (DynamoDB TTL deletes lazily): a long batch
    // outlives challenges (60 s) and short-lived messages made by earlier batches.
    const ttl =
      table && table in TABLES ? (TABLES[table as TableName] as TableSchema).ttlAttribute : undefined;
    const expiresAt = ttl ? Number((JSON.parse(v) as Record<string, unknown>)[ttl]) : Number.NaN;
    if (expiresAt <= now) continue;
    out.push(`removed ${k}`);
  }
  return out;
}

// ─── Running a batch ────────────────────────────────────────────────────────────────────────────

async function pool<T>(inputs: T[], workers: number, work: (input: T, worker: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (next < inputs.length) await work(inputs[next++]!, worker);
    }),
  );
}

function checkLogs(): void {
  for (const line of harness.logLines) {
    const parsed = JSON.parse(line) as { code?: string; status?: number };
    // No fault is injected here: a dependency failure (`unavailable`) would be a bug too.
    expect(['internal', 'unavailable'], line).not.toContain(parsed.code);
    expect([500, 503], line).not.toContain(parsed.status ?? 0);
  }
}

async function batch<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  run: (input: T, accepted: Accepted, worker: number) => Promise<string | undefined>,
  options: {
    workers?: number;
    runs?: number;
    drain?: (accepted: Accepted, failures: string[]) => Promise<void>;
    /**
     * Valid inputs (unmutated, signed where the route needs it): one in 20 of the batch is one of
     * these, each must get its documented 2xx, and at least one must, so a route that refuses
     * everything fails the run.
     */
    valid?: fc.Arbitrary<T>;
    /** Runs before the "before" snapshot, e.g. to register the identities signed inputs use. */
    prepare?: (inputs: T[]) => Promise<void>;
  } = {},
) {
  const runs = options.runs ?? RUNS;
  const inputs = [
    ...(options.valid ? fc.sample(options.valid, { numRuns: Math.ceil(runs / 20), seed: SEED }) : []),
    ...fc.sample(arb, { numRuns: runs, seed: SEED }),
  ];
  await options.prepare?.(inputs);
  const accepted = newAccepted();
  const before = await snapshot();
  const failures: string[] = [];
  const started = Date.now();
  await pool(inputs, options.workers ?? CONCURRENCY, async (input, worker) => {
    let problem: string | undefined;
    try {
      problem = await run(input, accepted, worker);
    } catch (error) {
      problem = `threw ${(error as Error).message}`;
    }
    if (problem && failures.length < 20)
      failures.push(`${problem} ← input ${JSON.stringify(input, replacer)}`);
  });
  await options.drain?.(accepted, failures);
  const seconds = (Date.now() - started) / 1000;
  timings.push(
    `${name}: ${inputs.length} inputs in ${seconds.toFixed(1)} s; ${accepted.validAccepted} valid inputs got their 2xx, ${accepted.usedMarkers.size} proofs or stamps accepted, ${accepted.rates.size} rate windows counted`,
  );
  const changes = unexplainedChanges(before, await snapshot(), accepted);
  expect(failures, `seed ${SEED}`).toEqual([]);
  expect(changes, `seed ${SEED}`).toEqual([]);
  if (options.valid)
    expect(accepted.validAccepted, `valid inputs that got their 2xx, seed ${SEED}`).toBeGreaterThan(0);
  checkLogs();
}

function replacer(_k: string, v: unknown) {
  return v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('base64')}` : v;
}

// ─── HTTP ───────────────────────────────────────────────────────────────────────────────────────

interface HttpInput {
  method: string;
  path: string;
  contentType?: string;
  body?: string | Uint8Array;
  /** Generated valid and unmutated: must get a 2xx. */
  valid?: boolean;
  /** Path and body made when sent, with a real challenge and a correct proof (see `sendSigned`). */
  signed?: Signed;
}

/**
 * A directory request that carries a correct proof, so the code behind the proof check runs:
 * `fields` (the body without token and response) are signed as the server will read them, whatever
 * a mutation made of them; `tamper` then changes one body field after signing.
 */
interface Signed {
  purpose: string; // an owner purpose, or 'create' (then with proof of work)
  fields: Record<string, unknown>;
  tamper?: [string, unknown];
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const hexBytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map(toHex);
const idChars = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
const validId = fc.string({ unit: fc.constantFrom(...idChars), minLength: 8, maxLength: 8 });

/** A path segment: arbitrary text, percent-encoded where needed, or a raw oddity. */
const segment = fc.oneof(
  fc.string({ maxLength: 80 }).map(safeEncode),
  fc.string({ unit: 'binary', maxLength: 40 }).map(safeEncode),
  fc.constantFrom('..', '.', '%', '%2F', '%00', '', '{id}', '%ZZ', '~', ';'),
);
function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '?'));
  }
}

/** One field of `base` mutated to an arbitrary JSON value, dropped, or an extra field added. */
function nearValid(base: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return base.chain((valid) =>
    fc
      .tuple(
        fc.constantFrom(...Object.keys(valid), 'extra'),
        fc.oneof(
          fc.constant<unknown>(undefined),
          fc.jsonValue({ maxDepth: 2 }),
          fc.string({ maxLength: 300 }),
          fc.integer(),
          fc.double(),
          hexBytes(32).map((h) => h.toUpperCase()),
        ),
      )
      .map(([field, value]) => {
        const copy: Record<string, unknown> = { ...valid };
        if (value === undefined) delete copy[field];
        else copy[field] = value;
        return copy;
      }),
  );
}

/** Any body: JSON, text, bytes, or a near-valid object (given more weight). */
function body(base?: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string | Uint8Array | undefined> {
  const arbitrary = [
    fc.constant(undefined),
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 500 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.uint8Array({ maxLength: 1024 }),
    fc.constant('{'.repeat(5000)),
  ] as fc.Arbitrary<string | Uint8Array | undefined>[];
  if (base) {
    const near = nearValid(base).map((o) => JSON.stringify(o));
    return fc.oneof({ arbitrary: near, weight: 6 }, ...arbitrary.map((a) => ({ arbitrary: a, weight: 1 })));
  }
  return fc.oneof(...arbitrary);
}

function httpInput(
  methods: fc.Arbitrary<string>,
  path: fc.Arbitrary<string>,
  bodies: fc.Arbitrary<string | Uint8Array | undefined>,
): fc.Arbitrary<HttpInput> {
  return fc.record({
    method: methods,
    path,
    contentType: fc.constantFrom(
      'application/json',
      'application/octet-stream',
      'text/plain',
      undefined,
    ) as fc.Arbitrary<string | undefined>,
    body: bodies,
  });
}

const mostly = (method: string) =>
  fc.oneof(
    { arbitrary: fc.constant(method), weight: 4 },
    { arbitrary: fc.constantFrom(...METHODS), weight: 1 },
  );

const GATEWAY_NOT_FOUND = '{"message":"Not Found"}';
const gatewayNotFound = new Set<string>();
/** Documented, but never the answer to an input when no fault is injected: a bug if seen. */
const UNEXPECTED = new Set(['internal', 'unavailable']);
const DOCUMENTED_STATUSES = new Set(Object.values(ERROR_CODES).map((e) => e.status));

/**
 * `fetch`, sent once more when the connection was reset before any answer came. Between batches
 * the fuzzer compares tables for several seconds while its pooled keep-alive sockets sit idle; the
 * runner closes idle sockets after 5 s, and on a busy machine the next request can still be written
 * to one of them (a 10 000-run pass saw `read ECONNRESET` there). No answer was given, so nothing
 * about the input is hidden: a server that resets on an input resets again and is reported.
 */
async function httpFetch(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'UND_ERR_SOCKET') throw error;
    return fetch(url, init);
  }
}

/** Sends one request; returns a problem description, or undefined if the answer is documented. */
async function sendHttp(input: HttpInput, accepted: Accepted): Promise<string | undefined> {
  if (input.signed) return sendSigned(input, accepted);
  const { problem, status } = await answerHttp(input, accepted);
  return problem ?? validProblem(input, status, accepted);
}

function validProblem(input: HttpInput, status: number, accepted: Accepted): string | undefined {
  if (!input.valid) return undefined;
  if (status < 200 || status >= 300) return `valid input refused with ${status}`;
  accepted.validAccepted++;
  return undefined;
}

/** Sends one request; its status and body, and a problem if the answer is not documented. */
async function answerHttp(
  input: HttpInput,
  accepted: Accepted,
): Promise<{ problem?: string; status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (input.contentType) headers['content-type'] = input.contentType;
  const withBody = input.body !== undefined && input.method !== 'GET' && input.method !== 'HEAD';
  const response = await httpFetch(`${harness.runner.httpUrl.replace(/\/$/, '')}${input.path}`, {
    method: input.method,
    headers,
    ...(withBody ? { body: typeof input.body === 'string' ? input.body : Buffer.from(input.body!) } : {}),
  });
  const text = await response.text();
  const status = response.status;
  const done = (problem?: string) => ({ problem, status, text });
  if (status >= 200 && status < 300) {
    recordAccepted(input, text, accepted);
    return done();
  }
  if (status === 500 || !DOCUMENTED_STATUSES.has(status as never))
    return done(`status ${status}: ${text.slice(0, 200)}`);
  // A path no route matches (e.g. `/safe/` or `/directory/` themselves: `{proxy+}` needs a segment)
  // gets API Gateway's own 404, which the runner imitates: `{"message":"Not Found"}`.
  if (status === 404 && text === GATEWAY_NOT_FOUND) {
    gatewayNotFound.add(input.path);
    return done();
  }
  if (input.method === 'HEAD') return done(text === '' ? undefined : `HEAD ${status} with a body`);
  let parsed: { error?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    return done(`status ${status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
  const code = parsed?.error;
  if (typeof code !== 'string' || !(code in ERROR_CODES))
    return done(`status ${status}, unknown code: ${text.slice(0, 200)}`);
  if (UNEXPECTED.has(code)) return done(`${code}: ${text}`);
  if (ERROR_CODES[code as keyof typeof ERROR_CODES].status !== status)
    return done(`code ${code} with status ${status}`);
  return done();
}

function recordAccepted(input: HttpInput, text: string, accepted: Accepted) {
  const backup = /^\/safe\/backups\/([0-9a-f]{64})$/.exec(input.path);
  if (backup && (input.method === 'PUT' || input.method === 'DELETE')) accepted.backupIds.add(backup[1]!);
  if (input.path === '/directory/challenge' || input.path === '/vault/challenge') {
    try {
      const token = (JSON.parse(text) as { token?: unknown }).token;
      if (typeof token === 'string') accepted.challengeTokens.add(token);
    } catch {}
  }
}

/** Identities that signed inputs of the current batch act as (fresh, so `owner` stays untouched). */
let signers: TestIdentity[] = [];
let nextSigner = 0;

/** Registers enough fresh identities that none signs more than `perIdentity` of `inputs`. */
async function prepareSigners(inputs: HttpInput[], perIdentity: number): Promise<void> {
  const count = inputs.filter((i) => i.signed && i.signed.purpose !== 'create').length;
  signers = [];
  nextSigner = 0;
  for (let i = 0; i < Math.ceil(count / perIdentity); i++)
    signers.push(await registerIdentity(harness.runner));
}

/** The documented signed fields of each purpose (docs/PROTOCOL.md "Routes"), as the server reads them. */
const SIGNED_FIELDS: Record<string, [string, unknown][]> = {
  featureMask: [['featureMask', undefined]],
  link: [
    ['kind', undefined],
    ['address', undefined],
  ],
  confirm: [
    ['kind', undefined],
    ['code', undefined],
  ],
  unlink: [['kind', undefined]],
  revocationPassword: [['password', undefined]],
  export: [],
  match: [
    ['emailHashes', []],
    ['phoneHashes', []],
  ],
};
/** A tamper value: flip the last hex digit of the field (a well-formed wrong token, response or stamp). */
const FLIP = 'flip the last hex digit';
/** Refusals that come after the proof checked out: the proof is spent (its `used:` marker written). */
const AFTER_PROOF = new Set(['rate_limited', 'code_invalid']);

async function challengeFor(accepted: Accepted, subject: Record<string, unknown>) {
  const response = await httpFetch(`${harness.runner.httpUrl}directory/challenge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(subject),
  });
  const json = (await response.json()) as { token: string; temporaryPublicKey: string; work?: number };
  if (response.status !== 200)
    throw new Error(`challenge refused: ${response.status} ${JSON.stringify(json)}`);
  accepted.challengeTokens.add(json.token);
  return { token: fromHex(json.token)!, temporary: fromHex(json.temporaryPublicKey)!, work: json.work ?? 0 };
}

const hexOf = (value: unknown) => (typeof value === 'string' ? fromHex(value) : undefined);

/**
 * Sends a signed input: asks a real challenge, proves it (and, for `create`, pays its work), then
 * sends the body. Accepted answers are noted with exactly what they may write.
 */
async function sendSigned(input: HttpInput, accepted: Accepted): Promise<string | undefined> {
  const { purpose, fields, tamper } = input.signed!;
  const started = Date.now();
  let signer: TestIdentity;
  let path: string;
  let body: Record<string, unknown>;
  let workMarker: string | undefined;
  if (purpose === 'create') {
    signer = { id: '', keys: generateKeyPair() };
    const publicKey = toHex(signer.keys.publicKey);
    const subject = { purpose, publicKey };
    const challenge = await challengeFor(accepted, subject);
    const nonce = await solveWork(workSeed(challenge.token, subject), challenge.work);
    const request = { purpose, publicKey, featureMask: fields.featureMask ?? 0 };
    body = {
      publicKey,
      ...fields,
      token: toHex(challenge.token),
      response: toHex(answerChallenge(signer.keys.secretKey, challenge.temporary, challenge.token, request)),
      work: toHex(nonce),
    };
    workMarker = usedMarker('work', challenge.token, nonce, canonicalJson(subject));
    path = '/directory/identities';
  } else {
    signer = signers[nextSigner++ % signers.length]!;
    const challenge = await challengeFor(accepted, { purpose, identity: signer.id });
    const request: Record<string, unknown> = { purpose, identity: signer.id };
    for (const [field, absent] of SIGNED_FIELDS[purpose]!) request[field] = fields[field] ?? absent;
    const response = answerChallenge(signer.keys.secretKey, challenge.temporary, challenge.token, request);
    body = { ...fields, token: toHex(challenge.token), response: toHex(response) };
    path = `/directory/identities/${signer.id}/${purpose}`;
  }
  if (tamper) {
    const [field, value] = tamper;
    const was = body[field];
    if (value === FLIP) {
      // Well-formed but wrong: the last hex digit of the token, response or work changed.
      if (typeof was === 'string' && was.length > 0)
        body[field] = was.slice(0, -1) + (was.endsWith('0') ? '1' : '0');
    } else if (value === undefined) delete body[field];
    else body[field] = value;
  }
  const sent: HttpInput = { ...input, path, body: JSON.stringify(body), signed: undefined };
  const { problem, status, text } = await answerHttp(sent, accepted);
  if (problem) return `${problem} (sent ${sent.body})`;
  const ok = status >= 200 && status < 300;
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: unknown }).error;
  } catch {}
  const token = hexOf(body.token);
  const response = hexOf(body.response);
  if ((ok || AFTER_PROOF.has(code as string)) && token && response)
    accepted.usedMarkers.add(usedMarker('proof', token, response));
  if (ok && purpose === 'create') {
    if (workMarker) accepted.usedMarkers.add(workMarker);
    accepted.created.add(String((JSON.parse(text) as { identity?: unknown }).identity));
    noteRate(accepted, 'create', 'deployment', 3600, 1, started);
  } else if (purpose !== 'create' && (ok || AFTER_PROOF.has(code as string))) {
    const owner = ownerEntry(accepted, signer.id);
    owner.authenticated = true;
    if (ok && purpose === 'featureMask') owner.featureMasks.add(body.featureMask as number);
    if (ok && purpose === 'revocationPassword') owner.revocation = true;
    if (ok && purpose === 'link') {
      accepted.links.add(`link:${signer.id}:${String(body.kind)}`);
      noteRate(accepted, 'code', signer.id, 86_400, 1, started);
    }
    if (ok && purpose === 'match') {
      const count =
        ((body.emailHashes as unknown[]) ?? []).length + ((body.phoneHashes as unknown[]) ?? []).length;
      noteRate(accepted, 'match', signer.id, 86_400, count, started);
    }
  }
  return validProblem(input, status, accepted);
}

/**
 * Signed inputs of `purpose`: `valid` ones (unmutated) and `near` ones, either one field mutated
 * and then signed as mutated (the proof is right, so the code behind it runs on the mutated value),
 * or signed and then one body field changed (the proof no longer covers what is sent).
 */
function signedInputs(
  purpose: string,
  valid: fc.Arbitrary<Record<string, unknown>>,
  base: fc.Arbitrary<Record<string, unknown>> = valid,
) {
  const make = (fields: Record<string, unknown>, extra: Partial<HttpInput> = {}): HttpInput => ({
    method: 'POST',
    path: '',
    contentType: 'application/json',
    signed: { purpose, fields },
    ...extra,
  });
  const tamper = fc.tuple(
    fc.constantFrom(
      'token',
      'response',
      'work',
      ...(SIGNED_FIELDS[purpose] ?? [['featureMask']]).map(([f]) => f as string),
      'extra',
    ),
    fc.oneof(
      { arbitrary: fc.constant<unknown>(FLIP), weight: 3 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.jsonValue({ maxDepth: 1 }), weight: 1 },
      { arbitrary: hexBytes(32), weight: 1 },
    ),
  );
  return {
    valid: valid.map((fields) => make(fields, { valid: true })),
    near: fc.oneof(
      { arbitrary: nearValid(base).map((fields) => make(fields)), weight: 2 },
      {
        arbitrary: fc
          .tuple(base, tamper)
          .map(([fields, t]) => ({ ...make(fields), signed: { purpose, fields, tamper: t } })),
        weight: 1,
      },
    ),
  };
}

// ─── WebSocket ──────────────────────────────────────────────────────────────────────────────────

type Frame = string | Uint8Array;
const PRE_LOGIN_ACTIONS = new Set(['hello', 'error', 'echo']);
const SESSION_REPLIES = new Set(['sendAck', 'sendError', 'queue', 'acked', 'message', 'error', 'echo']);

interface WsWorker {
  socket: TestSocket;
  key?: Uint8Array;
  /** The last session frame number this worker used (PROTOCOL.md, "Replay protection"). */
  counter: number;
  used: number;
}

/** Validates one server frame; returns a problem, or undefined. */
function checkFrame(text: string, key: Uint8Array | undefined, accepted: Accepted): string | undefined {
  let frame: Record<string, unknown>;
  try {
    frame = JSON.parse(text);
  } catch {
    return `non-JSON reply ${text.slice(0, 100)}`;
  }
  const action = frame.action;
  if (typeof action !== 'string') return `reply without action ${text.slice(0, 100)}`;
  if (action === 'error') {
    // After login, errors are session frames: the code is inside the sealed payload.
    let code = frame.code;
    if (key && typeof frame.box === 'string') {
      try {
        code = openFrame(frame, key).code;
      } catch {
        return `sealed error frame that does not open: ${text.slice(0, 100)}`;
      }
    }
    if (typeof code !== 'string' || !(code in ERROR_CODES) || UNEXPECTED.has(code))
      return `error frame ${text}`;
    return undefined;
  }
  if (!key)
    return PRE_LOGIN_ACTIONS.has(action) ? undefined : `unexpected pre-login frame ${text.slice(0, 100)}`;
  if (!SESSION_REPLIES.has(action)) return `unexpected session frame ${text.slice(0, 100)}`;
  if (action === 'echo') return undefined;
  let payload: Record<string, unknown>;
  try {
    payload = openFrame(frame, key);
  } catch {
    return `session frame that does not open: ${text.slice(0, 100)}`;
  }
  // Replies are attributed by the message id they carry, never by the frame sent last: the runner
  // (like Lambda) handles a connection's frames concurrently, so a reply may arrive after the echo
  // that follows its frame, while the next input is already being answered.
  if (action === 'sendError') {
    const code = payload.code;
    if (typeof code !== 'string' || !(code in ERROR_CODES) || UNEXPECTED.has(code))
      return `sendError ${JSON.stringify(payload)}`;
    if (typeof payload.id !== 'string') return `sendError without an id ${JSON.stringify(payload)}`;
    accepted.refusedIds.add(Buffer.from(payload.id, 'base64').toString('hex'));
  }
  if (action === 'sendAck') {
    if (typeof payload.id !== 'string') return `sendAck without an id ${JSON.stringify(payload)}`;
    acceptSend(accepted, Buffer.from(payload.id, 'base64').toString('hex'));
  }
  return undefined;
}

/** A send the server accepted: its items are explained (its count in the sender's window is sampled). */
function acceptSend(accepted: Accepted, id: string): void {
  accepted.sends++;
  accepted.sendIds.add(id);
}

/** The next client frame nonce of a worker's session: 16 random bytes ‖ its next frame number. */
function nextNonce(worker: WsWorker): Uint8Array {
  return clientFrameNonce(++worker.counter, randomBytes(NONCE_BYTES - FRAME_COUNTER_BYTES));
}

/** Frames the WebSocket fuzzers have sent to handlers (one log line each), to know when all were handled. */
let framesSent = 0;

/** Whether the gateway answers `frame` itself (an `echo`, MOCK_WS_ROUTES): no handler, no log line. */
function answeredByGateway(frame: Frame): boolean {
  if (typeof frame !== 'string') return false;
  try {
    const action = (JSON.parse(frame) as { action?: unknown }).action;
    return typeof action === 'string' && Object.hasOwn(MOCK_WS_ROUTES, action);
  } catch {
    return false;
  }
}

/**
 * Sends `frame`, then an echo; every frame until that echo's answer must be documented. The gateway
 * answers echoes at once and in order, with a constant frame, so the call reads as many echo answers
 * as it sent echoes (two when `frame` is one). The frame's own reply may come after the echo: it is
 * then checked by the next call on this worker.
 */
async function sendWs(worker: WsWorker, frame: Frame, accepted: Accepted): Promise<string | undefined> {
  worker.used++;
  let echoes = 1;
  if (answeredByGateway(frame)) echoes++;
  else framesSent++;
  worker.socket.socket.send(frame);
  worker.socket.send(ECHO_FRAME);
  // Read up to this call's last echo even after a problem, so the next call starts in step.
  const seen: string[] = [];
  let problem: string | undefined;
  for (let i = 0; i < 50; i++) {
    let text: string;
    try {
      text = await worker.socket.next(10_000);
    } catch {
      return problem ?? `connection not usable (no echo; readyState ${worker.socket.socket.readyState})`;
    }
    if (text === ECHO_FRAME) {
      if (--echoes === 0) return problem;
      continue;
    }
    seen.push(text.slice(0, 60));
    problem ??= checkFrame(text, worker.key, accepted);
  }
  return problem ?? `more than 50 frames before the echo: ${seen.slice(0, 12).join(' ')}`;
}

const b64Bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map(b64);

/** Arbitrary frames: JSON objects with this action, near-valid envelopes, text, bytes. */
function wsFrame(
  action: fc.Arbitrary<string>,
  base?: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<Frame> {
  const withAction = (o: fc.Arbitrary<Record<string, unknown>>) =>
    fc.tuple(action, o).map(([a, fields]) => JSON.stringify({ ...fields, action: a }));
  const options: fc.Arbitrary<Frame>[] = [
    withAction(fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 })),
    fc
      .tuple(action, fc.jsonValue({ maxDepth: 2 }))
      .map(([a, v]) => JSON.stringify({ action: a, nonce: v, box: v })),
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 600 }),
  ];
  if (base) options.unshift(withAction(nearValid(base)), withAction(nearValid(base)));
  return fc.oneof(...options);
}

async function connectionCount(): Promise<number> {
  const page = await harness.clients.dynamo.send(
    new ScanCommand({ TableName: harness.runner.tables.connections, Select: 'COUNT', ConsistentRead: true }),
  );
  return page.Count ?? 0;
}

async function preLoginWorker(workers: WsWorker[], index: number): Promise<WsWorker> {
  const current = workers[index];
  // A fresh connection every 25 inputs, so handshake states (no hello, after hello, failed login) all get fuzzed.
  if (current && current.used < 25 && current.socket.socket.readyState === 1) return current;
  current?.socket.socket.close();
  const worker: WsWorker = { socket: await openSocket(harness.runner.wsUrl), counter: 0, used: 0 };
  workers[index] = worker;
  return worker;
}

// ─── Setup ──────────────────────────────────────────────────────────────────────────────────────

beforeAll(async () => {
  harness = await startTestRunner({
    scheduleIntervalMs: 0,
    safe: { maxBackupBytes: MAX_BACKUP_BYTES },
  });
  [owner, recipient] = await Promise.all([
    registerIdentity(harness.runner),
    registerIdentity(harness.runner),
  ]);
  fuzzers = await Promise.all(
    Array.from({ length: Math.ceil(CONCURRENCY / LIMITS.connectionsPerIdentity) }, () =>
      registerIdentity(harness.runner),
    ),
  );
  const put = await fetch(`${harness.runner.safeUrl}backups/${SEEDED_BACKUP}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from(randomBytes(100)),
  });
  expect(put.status).toBe(200);
  console.log(`fuzz: ${RUNS} inputs per route, seed ${SEED} (FUZZ_SEED=${SEED} reproduces)`);
});

afterAll(async () => {
  console.log(`fuzz timings:\n  ${timings.join('\n  ')}`);
  console.log(`paths answered with API Gateway's own 404: ${[...gatewayNotFound].slice(0, 20).join(' ')}`);
  await harness?.stop();
});

// ─── Routes ─────────────────────────────────────────────────────────────────────────────────────

describe('fuzz: Safe routes', () => {
  it('GET|HEAD|… /safe/config: documented answers only, nothing changed', async () => {
    await batch(
      'safe config',
      httpInput(fc.constantFrom(...METHODS), fc.constant('/safe/config'), body()),
      sendHttp,
      { valid: fc.constant<HttpInput>({ method: 'GET', path: '/safe/config', valid: true }) },
    );
  });

  it('every method on /safe/backups/{id}: documented answers only; only accepted PUT/DELETE change the bucket', async () => {
    const freshId = hexBytes(32);
    const id = fc.oneof(
      { arbitrary: freshId, weight: 2 },
      { arbitrary: freshId.map((h) => h.toUpperCase()), weight: 1 },
      {
        arbitrary: fc
          .tuple(freshId, fc.nat(63), fc.string({ minLength: 1, maxLength: 2 }))
          .map(([h, i, c]) => safeEncode(h.slice(0, i) + c + h.slice(i + 1))),
        weight: 2,
      },
      { arbitrary: freshId.map((h) => h.slice(0, 63)), weight: 1 },
      { arbitrary: segment, weight: 2 },
    );
    const bodies = fc.oneof(
      fc.constant(undefined),
      fc.uint8Array({ maxLength: 2048 }),
      fc.uint8Array({ minLength: MAX_BACKUP_BYTES + 1, maxLength: MAX_BACKUP_BYTES + 64 }),
      fc.string({ maxLength: 500 }),
    );
    const path = fc.oneof(
      { arbitrary: id.map((i) => `/safe/backups/${i}`), weight: 8 },
      { arbitrary: fc.array(segment, { maxLength: 4 }).map((s) => `/safe/${s.join('/')}`), weight: 2 },
    );
    const valid = fc.tuple(freshId, fc.uint8Array({ minLength: 1, maxLength: MAX_BACKUP_BYTES })).map(
      ([i, bytes]): HttpInput => ({
        method: 'PUT',
        path: `/safe/backups/${i}`,
        contentType: 'application/octet-stream',
        body: bytes,
        valid: true,
      }),
    );
    await batch('safe backups', httpInput(fc.constantFrom(...METHODS), path, bodies), sendHttp, { valid });
    // The seeded backup is never touched by any generated input (they use fresh ids).
    const head = await httpFetch(`${harness.runner.safeUrl}backups/${SEEDED_BACKUP}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('fuzz: vault routes', () => {
  const hex = (n: number) => hexBytes(n);
  const identityPath = (op: fc.Arbitrary<string>) =>
    fc.oneof(
      { arbitrary: op.map((o) => `/vault/identities/${owner.id}/${o}`), weight: 6 },
      { arbitrary: fc.tuple(validId, op).map(([i, o]) => `/vault/identities/${i}/${o}`), weight: 1 },
      { arbitrary: fc.tuple(segment, op).map(([i, o]) => `/vault/identities/${i}/${o}`), weight: 1 },
      { arbitrary: fc.array(segment, { maxLength: 5 }).map((p) => `/vault/${p.join('/')}`), weight: 1 },
    );
  const proof = { token: hex(32), response: hex(32) };
  /** Near-valid bodies of each route (docs/PROTOCOL.md, "Vault"), with wrong proofs, codes and logins. */
  const bodies: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
    register: fc.record({ request: hex(32), ...proof }),
    store: fc.record({
      record: hex(192),
      credential: hex(16),
      wrapped: hex(72),
      tries: fc.integer(),
      ...proof,
    }),
    delete: fc.record(proof),
    code: fc.record({
      kind: fc.constantFrom('email', 'phone'),
      address: fc.emailAddress(),
      token: hex(32),
      work: hex(8),
    }),
    start: fc.oneof(
      fc.record({ ke1: hex(96), request: hex(16), code: fc.stringMatching(/^\d{6}$/) }),
      fc.record({ ke1: hex(96), ...proof }),
    ),
    finish: fc.record({ login: hex(16), ke3: hex(64) }),
  };

  beforeAll(async () => {
    // A vault the owner has, which no input may change (none carries a proof, code or login).
    await dynamoVaultStore(harness.clients.dynamo, harness.runner.tables.vault).replace({
      identity: owner.id as IdentityId,
      registration: randomBytes(192),
      credential: randomBytes(16),
      wrapped: randomBytes(72),
      tries: 5,
      maxTries: 5,
      version: randomBytes(16),
    });
  });

  it('POST /vault/challenge and /vault/identities/{id}/{op}: documented answers only, nothing changed', async () => {
    const ops = Object.keys(bodies);
    const routes = fc.oneof(
      httpInput(
        mostly('POST'),
        fc.constant('/vault/challenge'),
        body(
          fc.record({
            identity: fc.oneof(
              fc.constant(0).map(() => owner.id),
              validId,
            ),
          }),
        ),
      ),
      ...ops.map((op) => httpInput(mostly('POST'), identityPath(fc.constant(op)), body(bodies[op]))),
      httpInput(fc.constantFrom(...METHODS), identityPath(segment), body()),
    );
    await batch('vault', routes, sendHttp, {
      valid: fc.constant(0).map(
        (): HttpInput => ({
          method: 'POST',
          path: '/vault/challenge',
          contentType: 'application/json',
          body: JSON.stringify({ identity: owner.id }),
          valid: true,
        }),
      ),
    });
  });
});

describe('fuzz: directory routes', () => {
  const hex32 = hexBytes(32);
  const proof = { token: hex32, response: hex32 };
  const ownerId = () => owner.id;
  const ownerPath = (op: string) =>
    fc.oneof(
      { arbitrary: fc.constant(0).map(() => `/directory/identities/${ownerId()}/${op}`), weight: 6 },
      { arbitrary: validId.map((i) => `/directory/identities/${i}/${op}`), weight: 1 },
      { arbitrary: segment.map((s) => `/directory/identities/${s}/${op}`), weight: 1 },
    );

  const post = (path: string, fields: fc.Arbitrary<Record<string, unknown>>) =>
    fields.map(
      (f): HttpInput => ({
        method: 'POST',
        path,
        contentType: 'application/json',
        body: JSON.stringify(f),
        valid: true,
      }),
    );
  const address = fc.oneof(
    validId.map((i) => ({ kind: 'email', address: `${i.toLowerCase()}@example.com` })),
    fc.stringMatching(/^\+41 79 \d{3} \d{2} \d{2}$/).map((a) => ({ kind: 'phone', address: a })),
  );
  const signed = {
    featureMask: signedInputs('featureMask', fc.record({ featureMask: fc.nat(65535) })),
    link: signedInputs(
      'link',
      address,
      fc.record({
        kind: fc.constantFrom('email', 'phone'),
        address: fc.oneof(fc.emailAddress(), fc.stringMatching(/^\+41 79 \d{3} \d{2} \d{2}$/)),
      }),
    ),
    confirm: signedInputs(
      'confirm',
      fc.record({ kind: fc.constantFrom('email', 'phone'), code: fc.stringMatching(/^\d{6}$/) }),
    ),
    unlink: signedInputs('unlink', fc.record({ kind: fc.constantFrom('email', 'phone') })),
    revocationPassword: signedInputs(
      'revocationPassword',
      fc.record({ password: fc.string({ minLength: 8, maxLength: 40 }) }),
    ),
    export: signedInputs('export', fc.constant({})),
    match: signedInputs(
      'match',
      fc.record({
        emailHashes: fc.array(hex32, { maxLength: 5 }),
        phoneHashes: fc.array(hex32, { maxLength: 5 }),
      }),
    ),
    create: signedInputs('create', fc.record({ featureMask: fc.nat(65535) })),
  };
  /** The route's own generator, plus signed near-valid inputs (one in 6) that get past the proof. */
  const withSigned = (arb: fc.Arbitrary<HttpInput>, near: fc.Arbitrary<HttpInput>, weight = 1) =>
    fc.oneof({ arbitrary: arb, weight: 6 - weight }, { arbitrary: near, weight });

  type RouteOptions = { valid?: fc.Arbitrary<HttpInput>; perIdentity?: number };
  const routes: [string, fc.Arbitrary<HttpInput>, RouteOptions?][] = [
    [
      'POST /directory/challenge',
      httpInput(
        mostly('POST'),
        fc.constant('/directory/challenge'),
        body(
          fc.oneof(
            fc.record({ purpose: fc.constant('create'), publicKey: hex32 }),
            fc.record({ purpose: fc.constantFrom(...OWNER_PURPOSES), identity: fc.constant(0).map(ownerId) }),
          ),
        ),
      ),
      {
        valid: post(
          '/directory/challenge',
          fc.oneof(
            fc.record({ purpose: fc.constant('create'), publicKey: hex32 }),
            fc.record({ purpose: fc.constantFrom(...OWNER_PURPOSES), identity: fc.constant(0).map(ownerId) }),
          ),
        ),
      },
    ],
    [
      // Signed inputs pay the proof of work (14 bits, ~35 ms): one in 20 here.
      'POST /directory/identities',
      fc.oneof(
        {
          arbitrary: httpInput(
            mostly('POST'),
            fc.constant('/directory/identities'),
            body(fc.record({ publicKey: hex32, featureMask: fc.nat(65535), ...proof })),
          ),
          weight: 19,
        },
        { arbitrary: signed.create.near, weight: 1 },
      ),
      { valid: signed.create.valid },
    ],
    [
      'GET /directory/identities/{id}',
      httpInput(
        mostly('GET'),
        fc
          .oneof(
            validId,
            validId.map((i) => i.toLowerCase()),
            fc.constant(0).map(ownerId),
            segment,
          )
          .map((i) => `/directory/identities/${i}`),
        body(),
      ),
      {
        valid: fc
          .constant(0)
          .map((): HttpInput => ({ method: 'GET', path: `/directory/identities/${owner.id}`, valid: true })),
      },
    ],
    [
      'POST /directory/lookup',
      httpInput(
        mostly('POST'),
        fc.constant('/directory/lookup'),
        body(
          fc.record({
            identities: fc.array(fc.oneof(validId, fc.constant(0).map(ownerId)), {
              minLength: 1,
              maxLength: 120,
            }),
          }),
        ),
      ),
      {
        valid: post(
          '/directory/lookup',
          fc.record({
            identities: fc.array(fc.oneof(validId, fc.constant(0).map(ownerId)), {
              minLength: 1,
              maxLength: 100,
            }),
          }),
        ),
      },
    ],
    [
      'POST /directory/identities/{id}/featureMask',
      withSigned(
        httpInput(
          mostly('POST'),
          ownerPath('featureMask'),
          body(fc.record({ featureMask: fc.nat(65535), ...proof })),
        ),
        signed.featureMask.near,
      ),
      { valid: signed.featureMask.valid },
    ],
    [
      'POST /directory/identities/{id}/link',
      withSigned(
        httpInput(
          mostly('POST'),
          ownerPath('link'),
          body(
            fc.record({
              kind: fc.constantFrom('email', 'phone'),
              address: fc.oneof(fc.emailAddress(), fc.stringMatching(/^\+41 79 \d{3} \d{2} \d{2}$/)),
              ...proof,
            }),
          ),
        ),
        signed.link.near,
      ),
      // 5 verification codes per identity and day: each signer signs at most 4 inputs.
      { valid: signed.link.valid, perIdentity: 4 },
    ],
    [
      'POST /directory/identities/{id}/confirm',
      withSigned(
        httpInput(
          mostly('POST'),
          ownerPath('confirm'),
          body(
            fc.record({
              kind: fc.constantFrom('email', 'phone'),
              code: fc.stringMatching(/^\d{6}$/),
              ...proof,
            }),
          ),
        ),
        signed.confirm.near,
      ),
    ],
    [
      'POST /directory/identities/{id}/unlink',
      withSigned(
        httpInput(
          mostly('POST'),
          ownerPath('unlink'),
          body(fc.record({ kind: fc.constantFrom('email', 'phone'), ...proof })),
        ),
        signed.unlink.near,
      ),
      { valid: signed.unlink.valid },
    ],
    [
      'POST /directory/identities/{id}/revocationPassword',
      // A 2xx runs scrypt (~100 ms): signed inputs are one in 20 here.
      fc.oneof(
        {
          arbitrary: httpInput(
            mostly('POST'),
            ownerPath('revocationPassword'),
            body(fc.record({ password: fc.string({ minLength: 8, maxLength: 40 }), ...proof })),
          ),
          weight: 19,
        },
        { arbitrary: signed.revocationPassword.near, weight: 1 },
      ),
      { valid: signed.revocationPassword.valid },
    ],
    [
      'POST /directory/identities/{id}/export',
      withSigned(httpInput(mostly('POST'), ownerPath('export'), body(fc.record(proof))), signed.export.near),
      { valid: signed.export.valid },
    ],
    [
      'POST /directory/identities/{id}/delete',
      httpInput(mostly('POST'), ownerPath('delete'), body(fc.record(proof))),
    ],
    [
      'POST /directory/identities/{id}/match',
      withSigned(
        httpInput(
          mostly('POST'),
          ownerPath('match'),
          body(
            fc.record({
              emailHashes: fc.array(hex32, { maxLength: 5 }),
              phoneHashes: fc.array(hex32, { maxLength: 5 }),
              ...proof,
            }),
          ),
        ),
        signed.match.near,
      ),
      { valid: signed.match.valid },
    ],
    [
      // Revocation runs scrypt (~100 ms) for each of the first 10 attempts per identity and day,
      // then answers rate_limited: near-valid inputs use three fixed ids so the batch stays fast.
      'POST /directory/revoke',
      httpInput(
        mostly('POST'),
        fc.constant('/directory/revoke'),
        body(
          fc.record({
            identity: fc.constantFrom('FUZZ0001', 'FUZZ0002', 'FUZZ0003'),
            password: fc.string({ minLength: 1, maxLength: 40 }),
          }),
        ),
      ),
    ],
    [
      'any method, any path under /directory/',
      httpInput(
        fc.constantFrom(...METHODS),
        fc.array(segment, { maxLength: 4 }).map((s) => `/directory/${s.join('/')}`),
        body(),
      ),
    ],
  ];

  for (const [name, arb, options = {}] of routes) {
    it(`${name}: documented answers only, a refused input changes nothing`, async () => {
      await batch(name, arb, sendHttp, {
        valid: options.valid,
        // 1000 matched hashes per identity and day; a signed match sends at most 10.
        prepare: (inputs) => prepareSigners(inputs, options.perIdentity ?? 50),
      });
      // The owner's identity record is untouched (also covered by the snapshot comparison).
      const me = await httpFetch(`${harness.runner.httpUrl}directory/identities/${owner.id}`);
      expect(me.status).toBe(200);
    });
  }
});

describe('fuzz: WebSocket actions before login', () => {
  const key32 = b64Bytes(32, 32);
  const cookie16 = b64Bytes(16, 16);
  const cases: [string, fc.Arbitrary<Frame>][] = [
    ['hello', wsFrame(fc.constant('hello'), fc.record({ key: key32, cookie: cookie16 }))],
    ['login', wsFrame(fc.constant('login'), fc.record({ nonce: b64Bytes(24, 24), box: b64Bytes(72, 72) }))],
    ['echo', wsFrame(fc.constant('echo'), fc.record({ data: fc.string({ maxLength: 64 }) }))],
    [
      'send/ack/pull before login',
      wsFrame(
        fc.constantFrom('send', 'ack', 'pull'),
        fc.record({ nonce: b64Bytes(24, 24), box: b64Bytes(16, 200) }),
      ),
    ],
    [
      'unknown actions',
      wsFrame(
        fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.constantFrom('$connect', '$disconnect', '$default', 'lookup', 'loginAck', 'error'),
        ),
      ),
    ],
    [
      'non-JSON text',
      fc.oneof(
        fc.string({ maxLength: 500 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom('', '{', 'null', '[]', '"action"', '{"action":'),
      ),
    ],
    ['binary frames', fc.uint8Array({ maxLength: 2000 })],
  ];
  for (const [name, arb] of cases) {
    it(`${name}: a documented frame, and the connection still answers`, async () => {
      const workers: WsWorker[] = [];
      const baseline = await connectionCount();
      await batch(`ws ${name}`, arb, async (frame, accepted, index) =>
        sendWs(await preLoginWorker(workers, index), frame, accepted),
      );
      // Close this batch's sockets and wait for $disconnect, so the next batch starts from the same table.
      for (const worker of workers) worker?.socket.socket.close();
      await eventually(async () => (await connectionCount()) <= baseline, 20_000);
    });
  }
});

/**
 * The routes a frame is handled by: every WebSocket route but the connection's own events. Not the
 * stream and scheduled functions (`wakeups`, `reaper`), whose lines come from no frame: counting
 * them let the drain end before the last frames' replies (found by the 10 000-input run of
 * 2026-12-04: the last sends' wake-ups made their sendAcks look missing).
 */
const FRAME_ROUTES = new Set<string>(
  Object.values(FUNCTIONS)
    .flatMap((spec) => spec.wsRoutes)
    .filter((route) => route !== '$connect' && route !== '$disconnect'),
);

/** WebSocket frames the runner has handled (its handler wrapper logs one line per frame). */
let handled = { lines: 0, frames: 0 };
function handledFrames(): number {
  let { lines, frames } = handled;
  for (; lines < harness.logLines.length; lines++) {
    const route = (JSON.parse(harness.logLines[lines]!) as { route?: string }).route;
    if (route && FRAME_ROUTES.has(route)) frames++;
  }
  handled = { lines, frames };
  return frames;
}

let nextMessageId = 1n;
/**
 * A send payload whose id is a valid message id gets an id no other input uses, so that every
 * reply (sendAck/sendError carry the id) and every mailbox item belongs to exactly one input. The
 * generators favour a few byte patterns (all zeros…), and the server stores one copy per id.
 */
function uniqueId(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const fields = payload as Record<string, unknown>;
  try {
    fromB64(fields.id, MESSAGE_ID_BYTES);
  } catch {
    return payload;
  }
  const id = Buffer.alloc(MESSAGE_ID_BYTES);
  id.writeBigUInt64BE(nextMessageId++);
  return { ...fields, id: b64(id) };
}

/** A send the server will parse that asks for no server ack: stored unless a sendError names it. */
function noteSend(payload: unknown, accepted: Accepted): void {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return;
  try {
    // What the server parses is the payload after JSON (undefined members dropped, -0 as 0, …),
    // so the harness reads that too, not the generated object.
    const request = parseSend(JSON.parse(JSON.stringify(payload)) as Record<string, unknown>);
    const id = toHex(request.id);
    if (request.flags & FLAGS.noServerAck) accepted.noAckIds.add(id);
    // Queued unless flag 0x02: one mailbox item per recipient, one count in the sender's window.
    accepted.sendStores.set(
      id,
      request.flags & FLAGS.noQueue
        ? []
        : request.to.map((e) => ({ recipient: e.identity, bytes: e.box.length })),
    );
    accepted.sentAt.set(id, Date.now());
    accepted.sendFrames++;
  } catch {
    // Refused at parsing (an `error` frame): nothing may be stored, so nothing is explained.
  }
}

describe('fuzz: WebSocket session frames after login', () => {
  const sessions: WsWorker[] = [];
  beforeAll(async () => {
    for (let i = 0; i < CONCURRENCY; i++) {
      const client = await RawClient.open(harness.runner);
      const ack = await client.login(fuzzers[i % fuzzers.length]!);
      expect(ack.action).toBe('loginAck');
      sessions.push({ socket: client.socket, key: client.key!, counter: client.counter, used: 0 });
    }
  });
  afterAll(() => {
    for (const s of sessions) s.socket.socket.close();
  });

  const sendBase = () =>
    fc.record({
      id: b64Bytes(8, 8),
      flags: fc.constantFrom(0, 1, 2, 4, 0x20, 0x80),
      to: fc
        .tuple(b64Bytes(24, 24), b64Bytes(16, 300))
        .map(([nonce, box]) => [{ identity: recipient.id, nonce, box }]),
    });
  const ackBase = () =>
    fc.record({
      messages: fc.array(
        fc.record({
          sender: fc.oneof(
            validId,
            fc.constant(0).map(() => recipient.id),
          ),
          id: b64Bytes(8, 8),
        }),
        { minLength: 1, maxLength: 60 },
      ),
    });
  const payloads: [string, fc.Arbitrary<string>, fc.Arbitrary<Record<string, unknown>>][] = [
    ['send', fc.constant('send'), fc.constant(0).chain(sendBase)],
    ['ack', fc.constant('ack'), fc.constant(0).chain(ackBase)],
    ['pull', fc.constant('pull'), fc.constant({})],
    [
      'unknown session actions',
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('hello', 'login', 'loginAck', 'queue')),
      fc.constant({}),
    ],
  ];
  for (const [name, action, base] of payloads) {
    it(`${name}: sealed or plaintext, mutated or not, a documented frame and the session still answers`, async () => {
      type SessionInput =
        | { kind: 'sealed'; action: string; payload: unknown }
        | { kind: 'raw'; frame: Frame }
        | { kind: 'sealedText'; action: string; text: string };
      const arb: fc.Arbitrary<SessionInput> = fc.oneof(
        {
          arbitrary: fc.record({ kind: fc.constant('sealed' as const), action, payload: nearValid(base) }),
          weight: 5,
        },
        {
          arbitrary: fc.record({
            kind: fc.constant('sealed' as const),
            action,
            payload: fc.jsonValue({ maxDepth: 3 }),
          }),
          weight: 2,
        },
        {
          arbitrary: fc.record({
            kind: fc.constant('sealedText' as const),
            action,
            text: fc.string({ maxLength: 200 }),
          }),
          weight: 1,
        },
        { arbitrary: fc.record({ kind: fc.constant('raw' as const), frame: wsFrame(action) }), weight: 2 },
      );
      const sentBefore = framesSent;
      const handledBefore = handledFrames();
      await batch(
        `ws session ${name}`,
        arb,
        async (input, accepted, index) => {
          const worker = sessions[index]!;
          if (input.kind === 'sealed' && input.action === 'send') input.payload = uniqueId(input.payload);
          let frame: Frame;
          if (input.kind === 'raw') frame = input.frame;
          else if (input.kind === 'sealed')
            frame = sealFrame(input.action, input.payload, worker.key!, nextNonce(worker));
          else {
            const nonce = nextNonce(worker);
            const sealed = JSON.parse(sealFrame(input.action, 0, worker.key!, nonce));
            // A box around arbitrary (non-JSON) text, under the right key.
            const { secretboxSeal } = await import('../../protocol/crypto.ts');
            sealed.box = b64(secretboxSeal(new TextEncoder().encode(input.text), nonce, worker.key!));
            frame = JSON.stringify(sealed);
          }
          if (input.kind === 'sealed' && input.action === 'send') noteSend(input.payload, accepted);
          return sendWs(worker, frame, accepted);
        },
        {
          // Wait until the runner has handled every frame of this batch (one log line each), then
          // read each session up to a last echo: every reply, e.g. a late sendAck, has then been
          // checked before the tables are compared.
          drain: async (accepted, failures) => {
            await eventually(() => handledFrames() - handledBefore >= framesSent - sentBefore, 60_000);
            for (const worker of sessions) {
              const problem = await sendWs(worker, JSON.stringify({ action: 'echo' }), accepted);
              if (problem) failures.push(`drain: ${problem}`);
            }
            // Flag 0x04 (no server ack): an accepted send gets no reply, a refused one a sendError.
            for (const id of accepted.noAckIds) {
              if (accepted.refusedIds.has(id)) continue;
              acceptSend(accepted, id);
            }
          },
        },
      );
    });
  }
});

// Keeps imports used when a route list is trimmed.
void fromHex;
