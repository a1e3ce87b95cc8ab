/**
 * The directory handler's request parsing, fuzzed with a stub Directory: whatever the method, path
 * and body, the handler either makes exactly one well-typed call and answers 2xx, or refuses with a
 * documented error code before calling anything (bad input changes nothing). Never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../contract/events.ts';
import type { Directory, Proof } from '../../lambdas/domain/directory.ts';
import { OWNER_PURPOSES } from '../../lambdas/domain/directory.ts';
import { makeDirectoryHandler } from '../../lambdas/handlers/directory.ts';
import { toHex } from '../../protocol/bytes.ts';
import { isContactKind } from '../../protocol/contacts.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { FEATURE_MASK_MAX, type IdentityId, isIdentityId, type PublicKey } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';

const ID = 'ABCD2345' as IdentityId;
const KEY = new Uint8Array(32).fill(7) as PublicKey;
/** What the handler may answer with when it refuses a request. */
const HANDLER_CODES = ['bad_request', 'too_large', 'not_found', 'method_not_allowed'];

/** A Directory that records each call after checking its arguments are the typed values promised. */
function stubDirectory(calls: string[]): Directory {
  const ok = (condition: boolean, what: string) => {
    if (!condition) throw new Error(`handler passed an invalid ${what}`);
  };
  const id = (value: unknown) => ok(isIdentityId(value), 'identity');
  const proof = (value: Proof) => ok(value.token.length === 32 && value.response.length === 32, 'proof');
  const record = (name: string) => calls.push(name);
  return {
    async challenge(purpose, subject) {
      ok([...OWNER_PURPOSES, 'create', 'revoke'].includes(purpose), 'purpose');
      if ('identity' in subject) id(subject.identity);
      else ok(subject.publicKey.length === 32, 'public key');
      record('challenge');
      return { token: new Uint8Array(32), temporaryPublicKey: KEY, expiresAt: 1 };
    },
    async createWorkBits() {
      return 0;
    },
    async revokeWorkBits(identity) {
      id(identity);
      return 0;
    },
    async create(input, p, work) {
      ok(work.length === 8, 'work');
      ok(input.publicKey.length === 32, 'public key');
      ok(
        Number.isInteger(input.featureMask) &&
          input.featureMask >= 0 &&
          input.featureMask <= FEATURE_MASK_MAX,
        'mask',
      );
      ok(input.invite === undefined || (input.invite.length > 0 && input.invite.length <= 64), 'invite');
      proof(p);
      record('create');
      return ID;
    },
    async lookup(identity) {
      id(identity);
      record('lookup');
      return { identity, state: 0, publicKey: KEY, featureMask: 0 };
    },
    async lookupMany(identities) {
      ok(identities.length >= 1 && identities.length <= LIMITS.lookupMaxIds, 'id count');
      identities.forEach(id);
      record('lookupMany');
      return identities.map((identity, i) =>
        i % 2 === 0 ? { identity, state: 0, publicKey: KEY, featureMask: 1 } : { identity, state: 2 },
      );
    },
    async setFeatureMask(identity, mask, p) {
      id(identity);
      ok(Number.isInteger(mask) && mask >= 0 && mask <= FEATURE_MASK_MAX, 'mask');
      proof(p);
      record('setFeatureMask');
    },
    async link(identity, kind, address, p) {
      id(identity);
      ok(isContactKind(kind) && typeof address === 'string' && address.length <= 254, 'address');
      proof(p);
      record('link');
    },
    async confirm(identity, kind, code, p) {
      id(identity);
      ok(isContactKind(kind) && code.length === 6, 'code');
      proof(p);
      record('confirm');
    },
    async unlink(identity, kind, p) {
      id(identity);
      ok(isContactKind(kind), 'kind');
      proof(p);
      record('unlink');
    },
    async setRevocationPassword(identity, password, p) {
      id(identity);
      ok(
        password.length >= LIMITS.revocationPasswordMinChars &&
          password.length <= LIMITS.revocationPasswordMaxChars,
        'password',
      );
      proof(p);
      record('setRevocationPassword');
    },
    async export(identity, p) {
      id(identity);
      proof(p);
      record('export');
      return {
        identity,
        publicKey: toHex(KEY),
        issueDate: null,
        lastLogin: '2026-01-01',
        mobileNoHash: null,
        emailHash: null,
        featureMask: 0,
        pushTokens: [],
        revocationKey: false,
      };
    },
    async delete(identity, p) {
      id(identity);
      proof(p);
      record('delete');
    },
    async revoke(identity, password, token, work) {
      id(identity);
      ok(token.length === 32 && work.length === 8, 'token or work');
      ok(password.length >= 1 && password.length <= LIMITS.revocationPasswordMaxChars, 'password');
      record('revoke');
    },
    async match(identity, hashes, p) {
      id(identity);
      const all = [...hashes.email, ...hashes.phone];
      ok(all.length <= LIMITS.matchMaxHashes && all.every((h) => h.length === 32), 'hashes');
      proof(p);
      record('match');
      return [{ identity: ID, publicKey: KEY, kind: 'email', hash: all[0] ?? new Uint8Array(32) }];
    },
    async createInvite() {
      throw new Error('no HTTP route issues invites');
    },
  };
}

function event(
  method: string,
  proxy: string | undefined,
  body: string | undefined,
  options: { base64: boolean; declared?: number },
): HttpEvent {
  const encoded =
    body === undefined ? undefined : options.base64 ? Buffer.from(body).toString('base64') : body;
  return {
    version: '2.0',
    routeKey: 'ANY /directory/{proxy+}',
    rawPath: `/directory/${proxy ?? ''}`,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      ...(options.declared === undefined ? {} : { 'content-length': String(options.declared) }),
    },
    ...(proxy === undefined ? {} : { pathParameters: { proxy } }),
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method, path: `/directory/${proxy ?? ''}`, protocol: 'HTTP/1.1', sourceIp: '', userAgent: '' },
      requestId: 'test',
      routeKey: 'ANY /directory/{proxy+}',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    ...(encoded === undefined ? {} : { body: encoded }),
    isBase64Encoded: options.base64 && body !== undefined,
  };
}

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map(toHex);
const nearHex = fc.oneof(
  hex(32),
  hex(32),
  hex(31),
  hex(33),
  fc.string(),
  hex(32).map((h) => h.toUpperCase()),
);
const identityLike = fc.oneof(
  fc.constant(ID),
  fc.stringMatching(/^[0-9A-Z]{8}$/),
  fc.constantFrom('abcd2345', 'ABCD234', 'ABCD23456', '', '*GATEWAY'),
  fc.string(),
);

const validId = fc.oneof(fc.constant(ID), fc.stringMatching(/^[0-9A-Z]{8}$/));
const proofFields = { token: hex(32), response: hex(32) };
const mask = fc.integer({ min: 0, max: FEATURE_MASK_MAX });
const kind = fc.constantFrom('email', 'phone');

/** A documented request per route: method, path below /directory/, and body. */
type Request = { method: string; proxy: string | undefined; body: Record<string, unknown> | undefined };
const route = (method: string, proxy: fc.Arbitrary<string>, body?: fc.Arbitrary<Record<string, unknown>>) =>
  fc.record({
    method: fc.constant(method),
    proxy,
    body: body ?? fc.constant(undefined),
  }) as fc.Arbitrary<Request>;
const owner = (op: string, extra: Record<string, fc.Arbitrary<unknown>> = {}) =>
  route(
    'POST',
    validId.map((id) => `identities/${id}/${op}`),
    fc.record({ ...proofFields, ...extra }),
  );
const validRequest: fc.Arbitrary<Request> = fc.oneof(
  route(
    'GET',
    validId.map((id) => `identities/${id}`),
  ),
  route('POST', fc.constant('challenge'), fc.record({ purpose: fc.constant('create'), publicKey: hex(32) })),
  route(
    'POST',
    fc.constant('challenge'),
    fc.record({ purpose: fc.constantFrom(...OWNER_PURPOSES, 'revoke'), identity: validId }),
  ),
  route(
    'POST',
    fc.constant('identities'),
    fc.record(
      {
        publicKey: hex(32),
        featureMask: mask,
        invite: fc.string({ minLength: 1, maxLength: 64 }),
        ...proofFields,
        work: hex(8),
      },
      { requiredKeys: ['publicKey', 'token', 'response', 'work'] },
    ),
  ),
  route(
    'POST',
    fc.constant('lookup'),
    fc.record({ identities: fc.array(validId, { minLength: 1, maxLength: LIMITS.lookupMaxIds }) }),
  ),
  owner('featureMask', { featureMask: mask }),
  owner('link', { kind, address: fc.string({ minLength: 1, maxLength: 254 }) }),
  owner('confirm', { kind, code: fc.stringMatching(/^[0-9]{6}$/) }),
  owner('unlink', { kind }),
  owner('revocationPassword', {
    password: fc.string({
      minLength: LIMITS.revocationPasswordMinChars,
      maxLength: LIMITS.revocationPasswordMaxChars,
    }),
  }),
  owner('export'),
  owner('delete'),
  owner('match', {
    emailHashes: fc.array(hex(32), { maxLength: 4 }),
    phoneHashes: fc.array(hex(32), { maxLength: 4 }),
  }),
  route(
    'POST',
    fc.constant('revoke'),
    fc.record({
      identity: validId,
      password: fc.string({ minLength: 1, maxLength: LIMITS.revocationPasswordMaxChars }),
      token: hex(32),
      work: hex(8),
    }),
  ),
);

const segment = fc.oneof(
  fc.constantFrom(
    'challenge',
    'identities',
    'lookup',
    'revoke',
    ...OWNER_PURPOSES,
    'constructor',
    'toString',
    '',
  ),
  identityLike,
);
/** Near misses: one field replaced by anything (or dropped, or added), the method or a path segment changed. */
const fieldNames = [
  'purpose',
  'publicKey',
  'identity',
  'token',
  'response',
  'featureMask',
  'invite',
  'kind',
  'address',
  'code',
  'password',
  'work',
  'identities',
  'emailHashes',
  'phoneHashes',
];
const wild = fc.oneof(
  nearHex,
  identityLike,
  fc.anything(),
  fc.constant(undefined),
  fc.array(hex(32), { minLength: LIMITS.matchMaxHashes + 1, maxLength: LIMITS.matchMaxHashes + 1 }),
  fc.array(validId, { minLength: LIMITS.lookupMaxIds + 1, maxLength: LIMITS.lookupMaxIds + 1 }),
);
const mutated: fc.Arbitrary<Request> = fc.oneof(
  fc.tuple(validRequest, fc.constantFrom(...fieldNames), wild).map(([request, name, value]) => ({
    ...request,
    body: { ...(request.body ?? {}), [name]: value },
  })),
  fc
    .tuple(validRequest, fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'POST'))
    .map(([request, m]) => ({ ...request, method: m })),
  fc.tuple(validRequest, fc.nat(3), segment).map(([request, index, part]) => {
    const parts = (request.proxy ?? '').split('/');
    parts[Math.min(index, parts.length)] = part;
    return { ...request, proxy: parts.join('/') };
  }),
);

const arbitraryRequest: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH'),
  proxy: fc.oneof(
    fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
    fc.string(),
    fc.constant(undefined),
  ),
  body: fc.oneof(fc.dictionary(fc.constantFrom(...fieldNames), wild), fc.constant(undefined)),
});

/** The body as sent: the request's JSON mostly, sometimes arbitrary text or an oversize one. */
const text = (request: Request) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constant(request.body === undefined ? undefined : JSON.stringify(request.body)),
    },
    { weight: 1, arbitrary: fc.oneof(fc.json(), fc.string()) },
    { weight: 1, arbitrary: fc.constant(`{"pad":"${'x'.repeat(LIMITS.directoryBodyBytes)}"}`) },
  );
const sent = fc
  .oneof(
    { weight: 3, arbitrary: validRequest },
    { weight: 4, arbitrary: mutated },
    { weight: 2, arbitrary: arbitraryRequest },
  )
  .chain((request) => fc.record({ request: fc.constant(request), body: text(request) }));
const declared = fc.option(fc.oneof(fc.nat(), fc.constant(LIMITS.directoryBodyBytes + 1)), {
  nil: undefined,
});

describe('directory handler parsing (fuzzed)', () => {
  it('answers any request with one valid call and 2xx, or a documented error and no call', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(sent, fc.boolean(), declared, async ({ request, body: b }, base64, length) => {
        const calls: string[] = [];
        const handler = makeDirectoryHandler({ directory: stubDirectory(calls) });
        let result: Awaited<ReturnType<typeof handler>> | undefined;
        let thrown: unknown;
        try {
          result = await handler(
            event(request.method, request.proxy, b, {
              base64,
              ...(length === undefined ? {} : { declared: length }),
            }),
          );
        } catch (error) {
          thrown = error;
        }
        if (thrown !== undefined) {
          expect(thrown).toBeInstanceOf(SwitchyardError);
          expect(HANDLER_CODES).toContain((thrown as SwitchyardError).code);
          expect(calls).toEqual([]);
          return;
        }
        answered++;
        expect([200, 201]).toContain(result!.statusCode);
        expect(calls).toHaveLength(1);
        expect(() => JSON.parse(result!.body!)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    // The fuzz reaches the directory, not only the refusals.
    expect(answered).toBeGreaterThan(50);
  });

  it('refuses oversize bodies by their declared or actual size before parsing them', async () => {
    const calls: string[] = [];
    const handler = makeDirectoryHandler({ directory: stubDirectory(calls) });
    const valid = JSON.stringify({ identities: [ID] });
    await expect(
      handler(event('POST', 'lookup', valid, { base64: false, declared: LIMITS.directoryBodyBytes + 1 })),
    ).rejects.toMatchObject({ code: 'too_large' });
    const big = `{"identities":["${ID}"],"pad":"${'x'.repeat(LIMITS.directoryBodyBytes)}"}`;
    await expect(handler(event('POST', 'lookup', big, { base64: true }))).rejects.toMatchObject({
      code: 'too_large',
    });
    expect(calls).toEqual([]);
    await handler(event('POST', 'lookup', valid, { base64: true }));
    expect(calls).toEqual(['lookupMany']);
  });
});
