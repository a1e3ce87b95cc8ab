/**
 * The chat switch's WebSocket routes. `hello` and `login` are the handshake (plaintext envelopes
 * carrying NaCl boxes); `send`, `ack` and `pull` are session frames, opened and answered with the
 * connection's session key. Replies travel as the route response; pushes to other connections go
 * through `@connections` (lambdas/domain/chat.ts).
 */

import { frameText, type WsEvent, type WsHandler, type WsResult } from '../../contract/events.ts';
import {
  b64,
  checkSessionFrame,
  encodeDelivery,
  NONCE_BYTES,
  openFrame,
  parseAck,
  parseHello,
  parseLogin,
  parsePull,
  parseSend,
  sealFrame,
} from '../../protocol/chat.ts';
import { asSwitchyardError, ERROR_CODES } from '../../protocol/errors.ts';
import { encodeFrame, parseEnvelope } from '../../protocol/frames.ts';
import type { Chat } from '../domain/chat.ts';
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
  identity: Parameters<Chat['pull']>[0],
  payload: Record<string, unknown>,
) => Promise<{ action: string; payload: unknown } | undefined>;

/**
 * A session route: find the logged-in session, open the frame, run `work`, and seal its answer.
 * Errors after the session is known are sealed too, so a middlebox learns nothing from them.
 * Also the media blob routes' frame (lambdas/handlers/ws-media.ts).
 */
export function sessionRoute(deps: ChatHandlerDeps, work: SessionWork): WsHandler {
  return async (event: WsEvent): Promise<WsResult> => {
    const { fields } = parseEnvelope(frameText(event));
    checkSessionFrame(fields);
    const session = await deps.chat.session(event.requestContext.connectionId);
    const seal = (action: string, payload: unknown) =>
      sealFrame(action, payload, session.sessionKey, deps.random.bytes(NONCE_BYTES));
    try {
      const reply = await work(session.identity, openFrame(fields, session.sessionKey));
      return { statusCode: 200, ...(reply ? { body: seal(reply.action, reply.payload) } : {}) };
    } catch (thrown) {
      const error = asSwitchyardError(thrown);
      const code = error.expose ? error.code : 'internal';
      if (!error.expose) throw thrown;
      return { statusCode: ERROR_CODES[code].status, body: seal('error', { code }) };
    }
  };
}

/**
 * `send` answers `sendAck` {id, results} after the write, or `sendError` {id, code} when the send
 * is refused (unknown recipient, mailbox full, rate limited): then nothing was stored.
 */
export function makeSendHandler(deps: ChatHandlerDeps): WsHandler {
  return sessionRoute(deps, async (identity, payload) => {
    const request = parseSend(payload);
    try {
      const result = await deps.chat.send(identity, request);
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

export function makeAckHandler(deps: ChatHandlerDeps): WsHandler {
  return sessionRoute(deps, async (identity, payload) => {
    const count = await deps.chat.ack(identity, parseAck(payload));
    return { action: 'acked', payload: { count } };
  });
}

export function makePullHandler(deps: ChatHandlerDeps): WsHandler {
  return sessionRoute(deps, async (identity, payload) => {
    parsePull(payload);
    const page = await deps.chat.pull(identity);
    return { action: 'queue', payload: { messages: page.messages.map(encodeDelivery), more: page.more } };
  });
}
