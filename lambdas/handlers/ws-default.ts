/**
 * `$default`: frames whose action has no route of its own. `echo` is the keep-alive, answered in
 * the route response; anything else gets an `unknown_action` error, sealed with the session key
 * when the connection is logged in (after login nothing travels in plaintext).
 */

import { frameText, type WsEvent, type WsHandler } from '../../contract/events.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { encodeFrame, parseEcho, parseEnvelope } from '../../protocol/frames.ts';
import type { Chat } from '../domain/chat.ts';
import type { Random } from '../domain/clock.ts';
import { refuseUnparsed } from './ws-chat.ts';

export interface DefaultHandlerDeps {
  readonly chat: Pick<Chat, 'sessionOf'>;
  readonly random: Random;
}

export function makeDefaultHandler(deps: DefaultHandlerDeps): WsHandler {
  return async (event: WsEvent) => {
    try {
      const { action, fields } = parseEnvelope(frameText(event));
      if (action !== 'echo') throw new SwitchyardError('unknown_action');
      return { statusCode: 200, body: encodeFrame('echo', parseEcho(fields)) };
    } catch (thrown) {
      return refuseUnparsed(deps.chat, deps.random, event.requestContext.connectionId, thrown);
    }
  };
}
