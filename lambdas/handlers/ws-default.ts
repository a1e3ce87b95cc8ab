/**
 * `$default`: frames whose action has no route of its own. `echo` is the keep-alive, answered in
 * the route response; anything else gets an `unknown_action` error frame.
 */

import type { WsEvent, WsHandler } from '../../contract/events.ts';
import { SwitchyardError } from '../../protocol/errors.ts';
import { encodeFrame, parseEcho, parseEnvelope } from '../../protocol/frames.ts';

export function makeDefaultHandler(): WsHandler {
  return async (event: WsEvent) => {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? '');
    const { action, fields } = parseEnvelope(text);
    if (action !== 'echo') throw new SwitchyardError('unknown_action');
    return { statusCode: 200, body: encodeFrame('echo', parseEcho(fields)) };
  };
}
