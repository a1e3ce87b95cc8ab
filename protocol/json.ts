/** Parsing untrusted JSON at the edge. */
import { SwitchyardError } from './errors.ts';

/** Parses `text` as a JSON object (not an array, not null); anything else is `bad_request`. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SwitchyardError('bad_request', { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SwitchyardError('bad_request');
  return value as Record<string, unknown>;
}
