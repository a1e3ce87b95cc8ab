/**
 * `$default`: frames whose action has no route of its own get an `unknown_action` error frame (a
 * frame that is no JSON envelope: `bad_request`, too big: `too_large`). The `echo` keep-alive never
 * reaches it: the gateway answers that itself (contract/manifest.ts `MOCK_WS_ROUTES`).
 */

import type { WsEvent, WsHandler } from '../../contract/events.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { parseEnvelope } from '../../protocol/frames.ts';

export function makeDefaultHandler(): WsHandler {
  return async (event: WsEvent) => {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? '');
    parseEnvelope(text);
    throw new SwitchyardError('unknown_action');
  };
}
