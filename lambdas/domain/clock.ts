/** Time and randomness are injected so expiry, ids and nonces are testable. */
import { randomBytes } from 'node:crypto';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface Random {
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { now: () => Date.now() };

export const systemRandom: Random = { bytes: (length) => new Uint8Array(randomBytes(length)) };

/** Epoch seconds, the unit DynamoDB TTL attributes use. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
