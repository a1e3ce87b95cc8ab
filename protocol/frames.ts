/**
 * WebSocket text frames. Every frame is a UTF-8 JSON object with a string `action`, which API
 * Gateway's route selection expression (`$request.body.action`) uses to pick a route:
 *
 *   {"action": "<name>", ...fields}
 *
 * Size is checked before parsing (UTF-8 bytes ≤ LIMITS.wsMessageBytes), then shape. Frames the
 * server sends use the same envelope; errors are {"action":"error","code":"<ErrorCode>"}.
 */
import { type ErrorCode, SwitchyardError } from './errors.ts';
import { parseJsonObject } from './json.ts';
import { LIMITS } from './limits.ts';

/** The action name of the WebSocket route-selection expression. */
export const ROUTE_SELECTION_EXPRESSION = '$request.body.action';

/** Actions are short lowercase-initial ASCII words, so they can be route keys. */
const ACTION_PATTERN = /^[a-z][a-zA-Z]{0,31}$/;

export interface Envelope {
  readonly action: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Parses a frame's envelope: size first, then JSON, then a valid `action`. */
export function parseEnvelope(text: string): Envelope {
  // A UTF-8 character is at most 4 bytes, so only long strings need an exact byte count.
  if (text.length * 4 > LIMITS.wsMessageBytes && Buffer.byteLength(text, 'utf8') > LIMITS.wsMessageBytes) {
    throw new SwitchyardError('too_large');
  }
  const { action, ...fields } = parseJsonObject(text);
  if (typeof action !== 'string' || !ACTION_PATTERN.test(action)) throw new SwitchyardError('bad_request');
  return { action, fields };
}

/** Encodes a server frame. */
export function encodeFrame(action: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ action, ...fields });
}

/** The error frame for a code; it carries nothing but the code. */
export function encodeErrorFrame(code: ErrorCode): string {
  return encodeFrame('error', { code });
}

/**
 * The keep-alive, in both directions: {"action":"echo"}. The gateway itself answers every frame
 * whose `action` is `echo` with exactly these bytes, whatever else the frame carries (on AWS a MOCK
 * integration's route response, locally the runner's gateway): no handler runs, nothing is parsed
 * or echoed back. Any inbound frame resets API Gateway's idle timer.
 */
export const ECHO_FRAME = '{"action":"echo"}';
