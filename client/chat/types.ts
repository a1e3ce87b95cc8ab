/** What a chat session hands to its callers: received messages, send results, its one error type. */

export interface ReceivedMessage {
  readonly sender: string;
  readonly id: Uint8Array;
  readonly flags: number;
  readonly body: Uint8Array;
  /** Server arrival time, ms since the epoch. */
  readonly sentAt: number;
}

export interface SendResult {
  readonly id: Uint8Array;
  /** Per recipient: queued (stored until acked), pushed or dropped (no-queue messages). */
  readonly results: ReadonlyArray<{ identity: string; status: 'queued' | 'pushed' | 'dropped' }>;
}

export class ChatError extends Error {
  constructor(
    readonly code: string,
    message = `The server refused: ${code}`,
  ) {
    super(message);
    this.name = 'ChatError';
  }
}
