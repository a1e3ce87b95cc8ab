/**
 * `$default`: frames whose action has no route of its own get an `unknown_action` error (a frame
 * that is no JSON envelope: `bad_request`, too big: `too_large`), sealed with the session key when
 * the connection is logged in (after login nothing travels in plaintext). The `echo` keep-alive
 * never reaches it: the gateway answers that itself (contract/manifest.ts `MOCK_WS_ROUTES`).
 */

import { frameText, type WsEvent, type WsHandler } from '../../contract/events.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { parseEnvelope } from '../../protocol/frames.ts';
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
      parseEnvelope(frameText(event));
      throw new SwitchyardError('unknown_action');
    } catch (thrown) {
      return refuseUnparsed(deps.chat, deps.random, event.requestContext.connectionId, thrown);
    }
  };
}
