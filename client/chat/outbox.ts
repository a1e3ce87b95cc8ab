/**
 * Sends waiting for their server ack. They survive a reconnect: each goes out again with the same
 * id, so the server stores it once. At most `window` of them are on the wire unanswered at a time
 * (the rest wait their turn): the server accepts a frame number only while fewer than
 * LIMITS.replayWindowFrames later ones were accepted before it (PROTOCOL.md, "Replay protection").
 */
import { fromB64, MESSAGE_ID_BYTES } from '../../protocol/chat.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { ChatError, type SendResult } from './types.ts';

interface Pending {
  readonly frame: () => string;
  resolve(result: SendResult): void;
  reject(error: Error): void;
}

/** Sends on the wire at once: half the replay window, leaving room for acks and pulls. */
export const SEND_WINDOW = LIMITS.replayWindowFrames / 2;

export class Outbox {
  private readonly pending = new Map<string, Pending>();
  /** Ids sent on the current socket and not answered yet. */
  private readonly inFlight = new Set<string>();

  /** `transmit` seals a frame and puts it on the current socket, or drops it when there is none. */
  constructor(
    private readonly transmit: (frame: () => string) => void,
    private readonly window = SEND_WINDOW,
  ) {}

  /** Adds a send under its base64 id; resolves on the server ack. */
  add(id: string, frame: () => string): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject });
      this.pump();
    });
  }

  /** A new socket: every send still waiting goes out again (sealed anew: the session key changed). */
  restart(): void {
    this.inFlight.clear();
    this.pump();
  }

  /** Sends waiting sends while fewer than `window` are in flight. */
  private pump(): void {
    for (const [id, pending] of this.pending) {
      if (this.inFlight.size >= this.window) return;
      if (this.inFlight.has(id)) continue;
      this.inFlight.add(id);
      this.transmit(pending.frame);
    }
  }

  /** Settles a send with the server's `sendAck` or `sendError` payload. */
  settle(action: 'sendAck' | 'sendError', payload: Record<string, unknown>): void {
    const pending = this.pending.get(String(payload.id));
    if (!pending) return;
    this.pending.delete(String(payload.id));
    this.inFlight.delete(String(payload.id));
    this.pump();
    if (action === 'sendAck') {
      pending.resolve({
        id: fromB64(payload.id, MESSAGE_ID_BYTES),
        results: payload.results as SendResult['results'],
      });
    } else {
      pending.reject(new ChatError(String(payload.code)));
    }
  }

  /** Fails every send still waiting. */
  rejectAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.inFlight.clear();
  }
}
