/**
 * The frames of a chat session over its current socket: plain JSON frames for the handshake,
 * sealed frames after login (session key; the nonce is 16 random bytes and the frame's number,
 * 1, 2, 3, … per session, which the server accepts once), and waiting for the next frame of an
 * expected action while others are kept for later.
 */
import { clientFrameNonce, FRAME_COUNTER_BYTES, NONCE_BYTES, sealFrame } from '../../protocol/chat.ts';
import { randomBytes } from '../../protocol/crypto.ts';
import { OPEN, type SocketLike } from './socket.ts';
import { ChatError } from './types.ts';

export interface Frame {
  readonly action: string;
  readonly fields: Record<string, unknown>;
}

/** Parses a text frame into its action and other fields; undefined for anything else. */
export function parseFrame(text: string): Frame | undefined {
  let frame: { action?: unknown } & Record<string, unknown>;
  try {
    frame = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { action, ...fields } = frame;
  if (typeof action !== 'string') return undefined;
  return { action, fields };
}

export class FrameChannel {
  socket: SocketLike | undefined;
  /** The session key once logged in; undefined during the handshake and after a disconnect. */
  key: Uint8Array | undefined;
  private waiting: ((frame: Frame) => void) | undefined;
  /** The session key the frame counter belongs to, and the last number used with it. */
  private counted: Uint8Array | undefined;
  private counter = 0;
  private readonly inbox: Frame[] = [];

  /** Logged in on an open socket: sealed frames can go out. */
  get ready(): boolean {
    return this.key !== undefined && this.socket?.readyState === OPEN;
  }

  /** Whether someone waits in `next`. */
  get awaited(): boolean {
    return this.waiting !== undefined;
  }

  /** Sends a frame if the socket is open; otherwise it is dropped (resends happen on reconnect). */
  raw(frame: Record<string, unknown> | string): void {
    if (this.socket?.readyState === OPEN)
      this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  seal(action: string, payload: unknown): string {
    if (this.counted !== this.key) {
      this.counted = this.key;
      this.counter = 0;
    }
    const nonce = clientFrameNonce(++this.counter, randomBytes(NONCE_BYTES - FRAME_COUNTER_BYTES));
    return sealFrame(action, payload, this.key!, nonce);
  }

  sessionFrame(action: string, payload: unknown): void {
    this.raw(this.seal(action, payload));
  }

  /** Hands a frame to whoever waits in `next`, or keeps it for a later `next`. */
  offer(frame: Frame): void {
    if (this.waiting) this.waiting(frame);
    else this.inbox.push(frame);
  }

  /** Waits for the next frame with one of `actions` (frames for others are handled as they come). */
  next(actions: readonly string[]): Promise<Frame> {
    const index = this.inbox.findIndex((frame) => actions.includes(frame.action));
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new ChatError('timeout', 'The chat server did not answer in time.'));
      }, 15_000);
      this.waiting = (frame) => {
        if (!actions.includes(frame.action)) return void this.inbox.push(frame);
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(frame);
      };
    });
  }
}
