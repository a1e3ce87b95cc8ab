/**
 * Facts docs/PROTOCOL.md states that an independent client relies on, pinned to the code so the
 * document can't drift silently. Pure functions and handlers with stubbed ports only: no database.
 * When one of these fails, the code changed a wire fact: change the document with it (or the code back).
 */
import middy from '@middy/core';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import nacl from 'tweetnacl';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { WsEvent } from '../../contract/events.ts';
import { MOCK_WS_ROUTES } from '../../contract/manifest.ts';
import { rateWindowUpdate } from '../../lambdas/adapters/ephemeral.ts';
import { type Chat, createChat, type SendResult } from '../../lambdas/domain/chat.ts';
import { type IdentityRecord, rateWindow } from '../../lambdas/domain/directory.ts';
import { makeSendHandler } from '../../lambdas/handlers/ws-chat.ts';
import { makeDefaultHandler } from '../../lambdas/handlers/ws-default.ts';
import { wsStack } from '../../lambdas/runtime/middlewares.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import {
  b64,
  clientFrameNonce,
  FLAGS,
  fromB64,
  NONCE_BYTES,
  openFrame,
  sealFrame,
} from '../../protocol/chat.ts';
import { answerChallenge, canonicalJson, expectedResponse } from '../../protocol/directory.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import type { IdentityId, PublicKey } from '../../protocol/identity.ts';
import { KEEP_ALIVE_MS, LIMITS } from '../../protocol/limits.ts';

const hex = (text: string) => fromHex(text)!;

describe('directory proof (PROTOCOL.md, "Proof of key possession")', () => {
  // The documented test vector.
  const clientSecret = new Uint8Array(32).fill(0x01);
  const temporarySecret = new Uint8Array(32).fill(0x02);
  const token = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const request = { purpose: 'export', identity: 'ABCD1234' };
  const documented = {
    temporaryPublicKey: 'ce8d3ad1ccb633ec7b70c17814a5c76ecd029685050d344745ba05870e587d59',
    S: '18a99320f3488fa18a04239715d8ee738065e65c3d4b2898522d6c3d4ead588c',
    k: '5d35e5b5d1208baf892326ba3498c8c6546a23296e55b6c2d8d743139192c25b',
    digest: 'd10b7406e50c7179d31c5faa727768841c37b74bdc8e1822f796a7e50cecea15',
    response: 'b935c904a803d9a46cea7667244ce393b1f0843ae0927ad947ae86bdb08899db',
  };
  const temporaryPublic = nacl.box.keyPair.fromSecretKey(temporarySecret).publicKey;

  it('the documented construction, byte by byte, gives the documented values', () => {
    const pad16 = (text: string) => {
      const out = new Uint8Array(16);
      out.set(new TextEncoder().encode(text));
      return out;
    };
    const S = nacl.box.before(temporaryPublic, clientSecret);
    const k = blake2b(new Uint8Array(0), {
      key: S,
      salt: pad16('dir'),
      personalization: pad16('3ma-csp'),
      dkLen: 32,
    });
    const canonical = canonicalJson(request);
    expect(canonical).toBe('{"identity":"ABCD1234","purpose":"export"}');
    const digest = sha256(new TextEncoder().encode(canonical));
    const message = new Uint8Array([...token, ...digest]);
    expect(message.length).toBe(64);
    const response = blake2b(message, { key: k, dkLen: 32 });
    expect({
      temporaryPublicKey: toHex(temporaryPublic),
      S: toHex(S),
      k: toHex(k),
      digest: toHex(digest),
      response: toHex(response),
    }).toEqual(documented);
  });

  it('the SDK and the server compute the documented response: the token enters as bytes', () => {
    expect(toHex(answerChallenge(clientSecret, temporaryPublic, token, request))).toBe(documented.response);
    const clientPublic = nacl.box.keyPair.fromSecretKey(clientSecret).publicKey;
    expect(toHex(expectedResponse(temporarySecret, clientPublic, token, request))).toBe(documented.response);
    // The token's 64 hex characters instead of its 32 bytes give another response.
    const asText = new TextEncoder().encode(toHex(token));
    expect(toHex(answerChallenge(clientSecret, temporaryPublic, asText, request))).not.toBe(
      documented.response,
    );
  });
});

describe('base64 on the chat switch (PROTOCOL.md, "Frames")', () => {
  const nonce = Uint8Array.from({ length: NONCE_BYTES }, (_, i) => 0xf8 + (i % 8)); // has + and / in base64
  const standard = b64(nonce);

  it('accepts standard base64 with padding', () => {
    expect(standard).toMatch(/[+/]/);
    expect(fromB64(standard, NONCE_BYTES)).toEqual(nonce);
    expect(fromB64('AAAAAA==', 4)).toEqual(new Uint8Array(4));
  });

  it.each([
    ['URL-safe alphabet', standard.replaceAll('+', '-').replaceAll('/', '_')],
    ['missing padding', 'AAAAAA'],
    ['extra padding', 'AAAAAA==='],
    ['a space', `${standard.slice(0, 8)} ${standard.slice(8)}`],
    ['a line break', `${standard.slice(0, 16)}\n${standard.slice(16)}`],
    ['a trailing newline', `${standard}\n`],
  ])('refuses %s with bad_request', (_, text) => {
    expect(() => fromB64(text)).toThrow(expect.objectContaining({ code: 'bad_request' }));
  });

  it('ignores the unused bits of the last character (AB== decodes like AA==)', () => {
    expect(fromB64('AB==')).toEqual(new Uint8Array([0]));
  });
});

// ─── Chat handlers with stubbed ports ───────────────────────────────────────────────────────────

const SENDER = 'SEND2345' as IdentityId;
const ALICE = 'ALIC2345' as IdentityId;
const BOB = 'BOBB2345' as IdentityId;
const KEY = new Uint8Array(32).fill(9);
const random = { bytes: (n: number) => new Uint8Array(n).fill(3) };

function wsEvent(body: string): WsEvent {
  return {
    requestContext: { connectionId: 'conn', routeKey: 'send', eventType: 'MESSAGE' },
    body,
    isBase64Encoded: false,
  } as unknown as WsEvent;
}

function chatWith(send: Chat['send']): Chat {
  const session = { identity: SENDER, sessionKey: KEY };
  return {
    frame: async () => ({ ok: true, session }),
    sessionOf: async () => session,
    send,
  } as unknown as Chat;
}

function sendFrame(box: Uint8Array, flags = 0): string {
  const payload = {
    id: b64(new Uint8Array(8).fill(1)),
    flags,
    to: [{ identity: ALICE, nonce: b64(new Uint8Array(24)), box: b64(box) }],
  };
  return sealFrame('send', payload, KEY, clientFrameNonce(1, new Uint8Array(16).fill(4)));
}

function opened(body: string | undefined) {
  const frame = JSON.parse(body!) as { action: string; nonce: string; box: string };
  return { action: frame.action, payload: openFrame(frame, KEY) };
}

describe('sendAck statuses (PROTOCOL.md, "sendAck statuses")', () => {
  it('are exactly queued, pushed and dropped', () => {
    expectTypeOf<SendResult['results'][number]['status']>().toEqualTypeOf<'queued' | 'pushed' | 'dropped'>();
  });

  function chat(liveFor: readonly IdentityId[]) {
    return createChat({
      sessions: {} as never,
      mailbox: {
        owner: async (identity: IdentityId) => ({
          active: true,
          sessions: liveFor.includes(identity)
            ? [{ connectionId: `live-${identity}`, sessionKey: KEY, expiresAt: Number.MAX_SAFE_INTEGER }]
            : [],
          count: 0,
          bytes: 0,
        }),
        put: async () => 'stored',
        addToCounters: async () => {},
      } as never,
      rates: { consume: async () => true },
      pusher: { push: async () => 'sent' } as never,
      identities: {
        getMany: async (ids: readonly IdentityId[]) =>
          ids.map((identity): IdentityRecord => ({ identity, state: 'active', publicKey: KEY as PublicKey })),
      } as never,
      serverKey: async () => nacl.box.keyPair(),
      clock: { now: () => 1_700_000_000_000 },
      random,
      messageTtlDays: 14,
    });
  }
  const envelope = (identity: IdentityId) => ({
    identity,
    nonce: new Uint8Array(24),
    box: new Uint8Array(16),
  });

  it('a stored send is queued for every recipient, live or not', async () => {
    const result = await chat([ALICE]).send(SENDER, 'conn', {
      id: new Uint8Array(8),
      flags: 0,
      to: [envelope(ALICE), envelope(BOB)],
      ack: [],
    });
    expect(result.results).toEqual([
      { identity: ALICE, status: 'queued' },
      { identity: BOB, status: 'queued' },
    ]);
  });

  it('a no-queue send is pushed to a live recipient and dropped for one without connections', async () => {
    const result = await chat([ALICE]).send(SENDER, 'conn', {
      id: new Uint8Array(8),
      flags: FLAGS.noQueue,
      to: [envelope(ALICE), envelope(BOB)],
      ack: [],
    });
    expect(result.results).toEqual([
      { identity: ALICE, status: 'pushed' },
      { identity: BOB, status: 'dropped' },
    ]);
  });
});

describe('errors after login (PROTOCOL.md, "Errors after login")', () => {
  /** The send route as deployed: the handler inside its middleware stack. */
  function sendRoute(send: Chat['send']) {
    return middy(makeSendHandler({ chat: chatWith(send), random, log: () => {} })).use(
      wsStack({ log: () => {}, clock: { now: () => 0 } }, LIMITS.wsMessageBytes),
    );
  }

  it.each(['unknown_recipient', 'mailbox_full', 'rate_limited', 'unavailable'] as const)(
    'a send refused with %s is a sealed sendError {id, code}, also with flag 0x04',
    async (code) => {
      const route = sendRoute(async () => {
        throw new SwitchyardError(code);
      });
      for (const flags of [0, FLAGS.noServerAck]) {
        const reply = await route(wsEvent(sendFrame(new Uint8Array(16), flags)), {} as never);
        expect(opened(reply.body)).toEqual({
          action: 'sendError',
          payload: { id: b64(new Uint8Array(8).fill(1)), code },
        });
      }
    },
  );

  it('a box over 65 536 bytes is a sealed error {code: bad_request} (not too_large, no id)', async () => {
    let sends = 0;
    const handler = makeSendHandler({
      chat: chatWith(async () => {
        sends++;
        return { ack: true, results: [] };
      }),
      random,
      log: () => {},
    });
    const largest = await handler(wsEvent(sendFrame(new Uint8Array(LIMITS.maxBoxBytes))));
    expect(opened(largest.body).action).toBe('sendAck');
    for (const size of [LIMITS.maxBoxBytes + 1, 15]) {
      const reply = await handler(wsEvent(sendFrame(new Uint8Array(size))));
      expect(opened(reply.body)).toEqual({ action: 'error', payload: { code: 'bad_request' } });
    }
    expect(sends).toBe(1);
  });

  it('an unexpected failure is not sealed: plaintext internal', async () => {
    const route = sendRoute(async () => {
      throw new Error('boom');
    });
    const reply = await route(wsEvent(sendFrame(new Uint8Array(16))), {} as never);
    expect(reply.body).toBe('{"action":"error","code":"internal"}');
  });
});

describe('echo (PROTOCOL.md, "Keeping the connection alive")', () => {
  it('is answered by the gateway with exactly {"action":"echo"}, whatever the frame carries', () => {
    expect(MOCK_WS_ROUTES).toEqual({ echo: '{"action":"echo"}' });
    expect(Buffer.byteLength(MOCK_WS_ROUTES.echo!)).toBe(17);
  });

  it('reaches no function: $default answers every other action with unknown_action', async () => {
    // Before login (no session to seal with) the answer is the plain error.
    const chat = { sessionOf: async () => undefined };
    for (const frame of ['{"action":"launch"}', '{"action":"echo","data":"x"}']) {
      await expect(makeDefaultHandler({ chat, random })(wsEvent(frame))).rejects.toMatchObject({
        code: 'unknown_action',
      });
    }
  });

  it('is worth sending every 9 minutes: one inside the 10-minute idle timeout', () => {
    expect(LIMITS.wsIdleTimeoutMs).toBe(600_000);
    expect(KEEP_ALIVE_MS).toBe(540_000);
  });
});

describe('frame sizes (PROTOCOL.md, "Frames", "Sending", "Limits")', () => {
  it('the documented limits in bytes', () => {
    expect(LIMITS.wsMessageBytes).toBe(131_072);
    expect(LIMITS.wsFrameBytes).toBe(32_768);
    expect(LIMITS.maxBoxBytes).toBe(65_536);
    expect(LIMITS.pullPageBytes).toBe(65_536);
    expect(LIMITS.mailboxMaxBytes).toBe(16_777_216);
    expect(LIMITS.directoryBodyBytes).toBe(65_536);
  });

  it('a session frame is 65 + length(action) + 4 × ⌈(P + 16) / 3⌉ bytes; a 73 590-byte box is the largest that fits', () => {
    const sizeWithBox = (n: number) => Buffer.byteLength(sendFrame(new Uint8Array(n)));
    for (const n of [16, 1000, 65_536]) {
      const payload = JSON.stringify({
        id: b64(new Uint8Array(8).fill(1)),
        flags: 0,
        to: [{ identity: ALICE, nonce: b64(new Uint8Array(24)), box: b64(new Uint8Array(n)) }],
      });
      const p = Buffer.byteLength(payload);
      expect(sizeWithBox(n)).toBe(65 + 'send'.length + 4 * Math.ceil((p + 16) / 3));
    }
    expect(sizeWithBox(73_590)).toBeLessThanOrEqual(LIMITS.wsMessageBytes);
    expect(sizeWithBox(73_591)).toBeGreaterThan(LIMITS.wsMessageBytes);
  });
});

describe('rate windows (PROTOCOL.md, "Rate windows", "Sending")', () => {
  it('are fixed windows aligned to multiples of their length in epoch seconds', () => {
    const before = rateWindow('send', SENDER, 60, 119);
    const after = rateWindow('send', SENDER, 60, 120);
    expect(before.endsAt).toBe(120);
    expect(after.endsAt).toBe(180);
    expect(after.key).not.toBe(before.key);
    expect(rateWindow('send', SENDER, 60, 61).key).toBe(before.key);
    expect(rateWindow('revoke', ALICE, 86_400, 86_399).endsAt).toBe(86_400); // 00:00 UTC
  });

  it('count up to the limit: an add that would pass it is refused and adds nothing', () => {
    const update = rateWindowUpdate('table', 'bucket', 1, 300, 180);
    expect(update.UpdateExpression).toBe('ADD #count :amount SET #exp = :exp');
    expect(update.ConditionExpression).toBe('attribute_not_exists(#count) OR #count <= :room');
    expect(update.ExpressionAttributeValues[':room']).toBe(299);
  });
});
