/**
 * Sends waiting for their server ack. They survive a reconnect: each goes out again with the same
 * id, so the server stores it once.
 */
import { fromB64, MESSAGE_ID_BYTES } from '../../protocol/chat.ts';
import { ChatError, type SendResult } from './types.ts';

interface Pending {
  readonly frame: () => string;
  resolve(result: SendResult): void;
  reject(error: Error): void;
}

export class Outbox {
  private readonly pending = new Map<string, Pending>();

  /** Adds a send under its base64 id and hands its frame to `transmit`; resolves on the server ack. */
  add(id: string, frame: () => string, transmit: (frame: () => string) => void): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      this.pending.set(id, { frame, resolve, reject });
      transmit(frame);
    });
  }

  /** The frames of every send still waiting (sealed anew: the session key changes on reconnect). */
  *frames(): Generator<string> {
    for (const pending of this.pending.values()) yield pending.frame();
  }

  /** Settles a send with the server's `sendAck` or `sendError` payload. */
  settle(action: 'sendAck' | 'sendError', payload: Record<string, unknown>): void {
    const pending = this.pending.get(String(payload.id));
    if (!pending) return;
    this.pending.delete(String(payload.id));
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
  }
}
