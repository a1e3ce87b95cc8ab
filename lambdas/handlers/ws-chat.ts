/**
 * The chat switch's WebSocket routes. `hello` and `login` are the handshake (plaintext envelopes
 * carrying NaCl boxes); `send`, `ack` and `pull` are session frames, opened and answered with the
 * connection's session key. Replies travel as the route response; pushes to other connections go
 * through `@connections` (lambdas/domain/chat.ts).
 */

import { frameText, type WsEvent, type WsHandler, type WsResult } from '../../contract/events.ts';
import {
  b64,
  encodeDelivery,
  NONCE_BYTES,
  openFrame,
  parseAck,
  parseHello,
  parseLogin,
  parsePull,
  parseSend,
  parseSessionFrame,
  sealFrame,
} from '../../protocol/chat.ts';
import { asSwitchyardError, ERROR_CODES, SwitchyardError } from '../../protocol/errors.ts';
import { encodeFrame, parseEnvelope } from '../../protocol/frames.ts';
import type { IdentityId } from '../../protocol/identity.ts';
import type { Chat, FrameSession } from '../domain/chat.ts';
import type { Random } from '../domain/clock.ts';
import type { Logger } from '../runtime/log.ts';

export interface ChatHandlerDeps {
  readonly chat: Chat;
  readonly random: Random;
  readonly log: Logger;
}

export function makeHelloHandler(deps: ChatHandlerDeps): WsHandler {
  return async (event) => {
    const { fields } = parseEnvelope(frameText(event));
    const { clientTempPublic, clientCookie } = parseHello(fields);
    const reply = await deps.chat.hello(event.requestContext.connectionId, clientTempPublic, clientCookie);
    return {
      statusCode: 200,
      body: encodeFrame('hello', {
        cookie: b64(reply.serverCookie),
        nonce: b64(reply.nonce),
        box: b64(reply.box),
      }),
    };
  };
}

export function makeLoginHandler(deps: ChatHandlerDeps): WsHandler {
  return async (event) => {
    const { fields } = parseEnvelope(frameText(event));
    const { nonce, box } = parseLogin(fields);
    const { sessionKey } = await deps.chat.login(event.requestContext.connectionId, nonce, box);
    return {
      statusCode: 200,
      body: sealFrame('loginAck', { serverTime: Date.now() }, sessionKey, deps.random.bytes(NONCE_BYTES)),
    };
  };
}

export type SessionWork = (
  identity: IdentityId,
  payload: Record<string, unknown>,
  connectionId: string,
  /** Set when the frame was accepted but its send refused by the identity's rate block. */
  rateLimited?: true,
) => Promise<{ action: string; payload: unknown } | undefined>;

/** An error answer sealed with the session's key: a middlebox learns nothing from it. */
function sealedError(random: Random, session: FrameSession, thrown: unknown): WsResult {
  const error = asSwitchyardError(thrown);
  if (!error.expose) throw thrown;
  return {
    statusCode: ERROR_CODES[error.code].status,
    body: sealFrame('error', { code: error.code }, session.sessionKey, random.bytes(NONCE_BYTES)),
  };
}

/**
 * A frame that could not be parsed (not JSON, wrong fields): sealed when the connection has a
 * session, so after login no error travels in plaintext; before login the plain error goes out.
 */
export async function refuseUnparsed(
  chat: Pick<Chat, 'sessionOf'>,
  random: Random,
  connectionId: string,
  thrown: unknown,
): Promise<WsResult> {
  const session = await chat.sessionOf(connectionId);
  if (!session) throw thrown;
  return sealedError(random, session, thrown);
}

/**
 * A session route: accept the frame (one conditional write: session, replay counter, for `send`
 * the rate block), open it, run `work`, and seal its answer. Errors after the session is known are
 * sealed too. Also the media blob routes' frame (lambdas/handlers/ws-media.ts).
 */
export function sessionRoute(deps: ChatHandlerDeps, send: boolean, work: SessionWork): WsHandler {
  return async (event: WsEvent): Promise<WsResult> => {
    const connectionId = event.requestContext.connectionId;
    let fields: Record<string, unknown>;
    let counter: number;
    try {
      fields = parseEnvelope(frameText(event)).fields;
      counter = parseSessionFrame(fields).counter;
    } catch (thrown) {
      return refuseUnparsed(deps.chat, deps.random, connectionId, thrown);
    }
    const check = await deps.chat.frame(connectionId, counter, send);
    if (!check.ok && check.code === 'not_logged_in') throw new SwitchyardError('not_logged_in');
    const session = check.session;
    const seal = (action: string, payload: unknown) =>
      sealFrame(action, payload, session.sessionKey, deps.random.bytes(NONCE_BYTES));
    try {
      const payload = openFrame(fields, session.sessionKey);
      if (!check.ok && check.code !== 'rate_limited') throw new SwitchyardError(check.code);
      const reply = await work(session.identity, payload, connectionId, check.ok ? undefined : true);
      return { statusCode: 200, ...(reply ? { body: seal(reply.action, reply.payload) } : {}) };
    } catch (thrown) {
      return sealedError(deps.random, session, thrown);
    }
  };
}

/**
 * `send` answers `sendAck` {id, results} after the write, or `sendError` {id, code} when the send
 * is refused (unknown recipient, mailbox full, rate limited): then nothing was stored. Acks it
 * carries (`ack`) are applied either way.
 */
export function makeSendHandler(deps: ChatHandlerDeps): WsHandler {
  return sessionRoute(deps, true, async (identity, payload, connectionId, rateLimited) => {
    const request = parseSend(payload);
    // Acks carried by the frame count whatever becomes of the send: they are the recipient's own.
    const acked = request.ack.length > 0 ? deps.chat.ack(identity, request.ack) : undefined;
    // A send refused by its identity's rate block answers like any refused send: by its id.
    if (rateLimited) {
      await acked;
      return { action: 'sendError', payload: { id: b64(request.id), code: 'rate_limited' } };
    }
    try {
      const [result] = await Promise.all([deps.chat.send(identity, connectionId, request), acked]);
      return result.ack
        ? { action: 'sendAck', payload: { id: b64(request.id), results: result.results } }
        : undefined;
    } catch (thrown) {
      const error = asSwitchyardError(thrown);
      if (!error.expose) throw thrown;
      return { action: 'sendError', payload: { id: b64(request.id), code: error.code } };
    }
  });
}

/** `ack` deletes the acked messages; it answers `acked` {} only when the frame asked (`reply`). */
export function makeAckHandler(deps: ChatHandlerDeps): WsHandler {
  return sessionRoute(deps, false, async (identity, payload) => {
    const { messages, reply } = parseAck(payload);
    await deps.chat.ack(identity, messages);
    return reply ? { action: 'acked', payload: {} } : undefined;
  });
}

export function makePullHandler(deps: ChatHandlerDeps): WsHandler {
  return sessionRoute(deps, false, async (identity, payload) => {
    parsePull(payload);
    const page = await deps.chat.pull(identity);
    return { action: 'queue', payload: { messages: page.messages.map(encodeDelivery), more: page.more } };
  });
}
