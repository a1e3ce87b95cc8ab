/** Connection records: what the switch knows about one live WebSocket connection. */
import type { IdentityId } from '../../protocol/identity.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { epochSeconds } from './clock.ts';

export interface ConnectionRecord {
  /** API Gateway's connection id: opaque, never logged. */
  readonly connectionId: string;
  /** Milliseconds since the epoch. */
  readonly connectedAt: number;
  /** Epoch seconds after which the record counts as gone, whether or not TTL has deleted it. */
  readonly expiresAt: number;
}

export interface ConnectionStore {
  open(record: ConnectionRecord): Promise<void>;
  /** Forgets a connection; returns the identity it was logged in as, if any. */
  close(connectionId: string): Promise<IdentityId | undefined>;
}

/**
 * API Gateway closes every connection after LIMITS.wsMaxLifetimeMs, and `$disconnect` is best
 * effort: the record expires a little after the longest possible connection.
 */
export function newConnectionRecord(connectionId: string, connectedAt: number): ConnectionRecord {
  return {
    connectionId,
    connectedAt,
    expiresAt: epochSeconds(connectedAt + LIMITS.wsMaxLifetimeMs) + LIMITS.connectionRecordSlackSeconds,
  };
}
