import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KNOWN_FLAGS, MESSAGE_ID_BYTES, NONCE_BYTES, parseSend } from '../../protocol/chat.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { ECHO_FRAME, encodeErrorFrame, encodeFrame, parseEnvelope } from '../../protocol/frames.ts';
import { LIMITS } from '../../protocol/limits.ts';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof SwitchyardError ? error.code : 'not-a-switchyard-error';
  }
}

describe('frame envelope', () => {
  it('parses an action and keeps the other fields', () => {
    expect(parseEnvelope('{"action":"echo","data":"x"}')).toEqual({ action: 'echo', fields: { data: 'x' } });
  });

  it('refuses a frame over the message limit before parsing it', () => {
    const text = `{"action":"echo","data":"${'a'.repeat(LIMITS.wsMessageBytes)}"}`;
    expect(codeOf(() => parseEnvelope(text))).toBe('too_large');
  });

  it('counts UTF-8 bytes, not characters, against the limit', () => {
    const text = `{"action":"echo","data":"${'€'.repeat(Math.ceil(LIMITS.wsMessageBytes / 3))}"}`;
    expect(text.length).toBeLessThan(LIMITS.wsMessageBytes);
    expect(codeOf(() => parseEnvelope(text))).toBe('too_large');
  });

  it.each([
    ['not JSON', 'hello'],
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['no action', '{"data":1}'],
    ['a numeric action', '{"action":1}'],
    ['an action that could not be a route key', '{"action":"$connect"}'],
    ['an over-long action', `{"action":"${'a'.repeat(40)}"}`],
  ])('refuses %s as bad_request', (_name, text) => {
    expect(codeOf(() => parseEnvelope(text))).toBe('bad_request');
  });

  it('yields a value or a typed error for any input, never a crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (text) => {
        const code = codeOf(() => parseEnvelope(text));
        expect(code === undefined || code === 'bad_request' || code === 'too_large').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes server frames and error frames that carry only the code', () => {
    expect(JSON.parse(encodeFrame('echo', { data: 'x' }))).toEqual({ action: 'echo', data: 'x' });
    expect(JSON.parse(encodeErrorFrame('unknown_action'))).toEqual({
      action: 'error',
      code: 'unknown_action',
    });
  });
});

describe('echo frame', () => {
  it('is the bare echo envelope, as the SDK sends it', () => {
    expect(ECHO_FRAME).toBe(encodeFrame('echo'));
    expect(ECHO_FRAME).toBe(JSON.stringify({ action: 'echo' }));
    expect(parseEnvelope(ECHO_FRAME)).toEqual({ action: 'echo', fields: {} });
  });
});

describe('send payload', () => {
  const send = (flags: unknown) => ({
    id: Buffer.alloc(MESSAGE_ID_BYTES).toString('base64'),
    flags,
    to: [{ identity: 'ABCD1234', nonce: Buffer.alloc(NONCE_BYTES).toString('base64'), box: 'A'.repeat(24) }],
  });

  it('accepts every combination of the known flags', () => {
    expect(parseSend(send(KNOWN_FLAGS)).flags).toBe(KNOWN_FLAGS);
  });

  // Found by the fuzzer: `flags & ~KNOWN_FLAGS` looks only at the low 32 bits, so 2 ** 40 passed the
  // parser and then failed to marshal for DynamoDB (an `internal` answer instead of bad_request).
  it.each([2 ** 32, 2 ** 40, 4.05575191600731e193, Number.MAX_VALUE, KNOWN_FLAGS + 1, -1, 1.5])(
    'refuses flags %d as bad_request',
    (flags) => {
      expect(codeOf(() => parseSend(send(flags)))).toBe('bad_request');
    },
  );

  const ref = { sender: 'EFGH5678', id: Buffer.alloc(MESSAGE_ID_BYTES, 7).toString('base64') };

  it('carries acks of received messages, or none', () => {
    expect(parseSend(send(0)).ack).toEqual([]);
    const request = parseSend({ ...send(0), ack: [ref] });
    expect(request.ack).toEqual([{ sender: 'EFGH5678', id: new Uint8Array(MESSAGE_ID_BYTES).fill(7) }]);
    expect(parseSend({ ...send(0), ack: Array(LIMITS.ackMaxMessages).fill(ref) }).ack).toHaveLength(
      LIMITS.ackMaxMessages,
    );
  });

  it.each([
    ['an empty list', []],
    ['too many', Array(LIMITS.ackMaxMessages + 1).fill(ref)],
    ['not a list', ref],
    ['a bad sender', [{ ...ref, sender: 'nobody' }]],
    ['a short id', [{ ...ref, id: 'AAAA' }]],
    ['an extra field', [{ ...ref, reply: true }]],
  ])('refuses acks that are %s as bad_request', (_, ack) => {
    expect(codeOf(() => parseSend({ ...send(0), ack }))).toBe('bad_request');
  });
});
