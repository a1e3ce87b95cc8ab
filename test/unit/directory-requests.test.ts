/**
 * The directory's request parser (protocol/directory-requests.ts), on its own: each route into its
 * typed request, and the documented order of refusals (path, then size, then shape).
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { parseDirectoryRequest } from '../../protocol/directory-requests.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { codeOf } from '../support/errors.ts';

const ID = 'ABCD2345';
const KEY = toHex(new Uint8Array(32).fill(7));
const PROOF = { token: 'aa'.repeat(32), response: 'bb'.repeat(32) };

function input(method: string, proxy: string | undefined, body?: unknown, headers?: Record<string, string>) {
  return {
    method,
    proxy,
    headers: headers ?? {},
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

describe('directory request parsing', () => {
  it('reads each route into its typed request', () => {
    expect(parseDirectoryRequest(input('GET', `identities/${ID}`))).toEqual({ kind: 'lookup', identity: ID });
    expect(parseDirectoryRequest(input('POST', 'challenge', { purpose: 'create', publicKey: KEY }))).toEqual({
      kind: 'challenge',
      purpose: 'create',
      subject: { publicKey: new Uint8Array(32).fill(7) },
    });
    expect(parseDirectoryRequest(input('POST', 'challenge', { purpose: 'export', identity: ID }))).toEqual({
      kind: 'challenge',
      purpose: 'export',
      subject: { identity: ID },
    });
    const create = parseDirectoryRequest(
      input('POST', 'identities', { publicKey: KEY, ...PROOF, work: '0102030405060708' }),
    );
    expect(create).toMatchObject({ kind: 'create', featureMask: 0 });
    expect(create).not.toHaveProperty('invite');
    if (create.kind !== 'create') throw new Error('not a create');
    expect(toHex(create.proof.token)).toBe(PROOF.token);
    expect(toHex(create.proof.response)).toBe(PROOF.response);
    expect(toHex(create.work)).toBe('0102030405060708');
    expect(parseDirectoryRequest(input('POST', 'lookup', { identities: [ID, '00000000'] }))).toEqual({
      kind: 'lookupMany',
      identities: [ID, '00000000'],
    });
    expect(
      parseDirectoryRequest(
        input('POST', `identities/${ID}/link`, { kind: 'phone', address: '+41 79', ...PROOF }),
      ),
    ).toMatchObject({ kind: 'link', identity: ID, contact: 'phone', address: '+41 79' });
    expect(
      parseDirectoryRequest(
        input('POST', `identities/${ID}/confirm`, { kind: 'email', code: '123456', ...PROOF }),
      ),
    ).toMatchObject({ kind: 'confirm', identity: ID, contact: 'email', code: '123456' });
    const match = parseDirectoryRequest(
      input('POST', `identities/${ID}/match`, { emailHashes: ['cc'.repeat(32)], ...PROOF }),
    );
    expect(match).toMatchObject({
      kind: 'match',
      hashes: { email: [new Uint8Array(32).fill(0xcc)], phone: [] },
    });
    const paid = { token: 'aa'.repeat(32), work: '0102030405060708' };
    expect(parseDirectoryRequest(input('POST', 'revoke', { identity: ID, password: 'p', ...paid }))).toEqual({
      kind: 'revoke',
      identity: ID,
      password: 'p',
      token: new Uint8Array(32).fill(0xaa),
      work: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    // Revocation pays proof of work: without token and work it is malformed.
    expect(() => parseDirectoryRequest(input('POST', 'revoke', { identity: ID, password: 'p' }))).toThrow();
  });

  it('decodes a base64 body as the gateway passes binary content', () => {
    const body = Buffer.from(JSON.stringify({ identities: [ID] })).toString('base64');
    expect(parseDirectoryRequest({ method: 'POST', proxy: 'lookup', body, isBase64Encoded: true })).toEqual({
      kind: 'lookupMany',
      identities: [ID],
    });
  });

  it('checks the path, then the size, then the shape', () => {
    const big = `{"pad":"${'x'.repeat(LIMITS.directoryBodyBytes)}"}`;
    const cases: Array<[ReturnType<typeof input>, string]> = [
      [input('POST', undefined), 'not_found'],
      [input('GET', 'lookup'), 'method_not_allowed'],
      [input('DELETE', `identities/${ID}`), 'method_not_allowed'],
      [input('POST', `identities/${ID}/export/more`, big), 'not_found'],
      [input('POST', 'challenge/x', big), 'not_found'],
      [input('POST', `identities/${ID}`, big), 'not_found'],
      [input('GET', 'identities/abcd2345'), 'bad_request'],
      // A malformed id in the path is refused before the body is read.
      [input('POST', 'identities/abcd2345/export', big), 'bad_request'],
      [input('POST', `identities/${ID}/export`, big), 'too_large'],
      [
        input(
          'POST',
          'lookup',
          { identities: [ID] },
          { 'content-length': String(LIMITS.directoryBodyBytes + 1) },
        ),
        'too_large',
      ],
      [input('POST', 'lookup', '[1]'), 'bad_request'],
      [input('POST', 'lookup', `\uFEFF${JSON.stringify({ identities: [ID] })}`), 'bad_request'],
      [input('POST', 'lookup', { identities: [] }), 'bad_request'],
      [input('POST', 'challenge', { purpose: 'toString', identity: ID }), 'bad_request'],
      [input('POST', 'identities', { publicKey: 'AB'.repeat(32), ...PROOF }), 'bad_request'],
      [input('POST', 'identities', { publicKey: KEY, invite: '', ...PROOF }), 'bad_request'],
      [input('POST', `identities/${ID}/confirm`, { kind: 'email', code: '12345', ...PROOF }), 'bad_request'],
      [input('POST', `identities/${ID}/link`, { kind: 'fax', address: 'x', ...PROOF }), 'bad_request'],
      [input('POST', `identities/${ID}/revocationPassword`, { password: 'short', ...PROOF }), 'bad_request'],
      [
        input('POST', `identities/${ID}/match`, {
          emailHashes: Array(LIMITS.matchMaxHashes).fill('cc'.repeat(32)),
          phoneHashes: ['dd'.repeat(32)],
          ...PROOF,
        }),
        'bad_request',
      ],
      // The proof is read before the operation: a malformed one is 400 even on an unknown operation.
      [input('POST', `identities/${ID}/bogus`, {}), 'bad_request'],
      [input('POST', `identities/${ID}/bogus`, PROOF), 'not_found'],
      [input('POST', `identities/${ID}/export`, { ...PROOF, token: 'aa'.repeat(31) }), 'bad_request'],
    ];
    for (const [request, code] of cases)
      expect(
        codeOf(() => parseDirectoryRequest(request)),
        `${request.method} ${request.proxy}`,
      ).toBe(code);
  });
});
