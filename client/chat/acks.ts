/**
 * Batched acks: a delivered message is acked when `batch` acks wait or after `delayMs`, at most
 * LIMITS.ackMaxMessages per frame. The server answers an ack frame only when it asks (`reply`):
 * while `replies` is set (draining the backlog, closing), frames ask, and those in flight are
 * counted so the session can wait for their answers (a disconnect that overtook an ack would make
 * the server refuse it; a pull that overtook one would page the acked messages again). Acks of
 * live pushes go without an answer: one API Gateway message fewer each.
 */
import { LIMITS } from '../../protocol/limits.ts';

export interface AckSender {
  /** Whether an ack frame can go out now (logged in, socket open). */
  ready(): boolean;
  send(batch: { sender: string; id: string }[], reply: boolean): void;
}

export class AckBatcher {
  private queue: { sender: string; id: string }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Ack frames sent on this socket whose answer has not come yet, and who waits for them. */
  private inFlight = 0;
  private answeredWaiters: (() => void)[] = [];
  /** Whether ack frames ask for an answer now. */
  replies = false;

  constructor(
    private readonly out: AckSender,
    private readonly batch: number = LIMITS.ackMaxMessages,
    private readonly delayMs: number = 200,
  ) {}

  get waiting(): boolean {
    return this.inFlight > 0;
  }

  add(sender: string, id: string): void {
    this.queue.push({ sender, id });
    if (this.queue.length >= this.batch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /**
   * Hands the waiting acks (at most LIMITS.ackMaxMessages) to a `send` frame that carries them, so
   * no ack frame of their own goes out; none while answers are wanted (draining, closing: only an
   * ack frame is answered) or when `fits` says the frame would grow too large.
   */
  takeForSend(fits: (batch: readonly { sender: string; id: string }[]) => boolean) {
    if (this.replies || this.queue.length === 0) return undefined;
    const batch = this.queue.slice(0, LIMITS.ackMaxMessages);
    if (!fits(batch)) return undefined;
    this.queue.splice(0, batch.length);
    if (this.queue.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return batch;
  }

  /** Sends the acks waiting now; returns how many ack frames went out. */
  flush(): number {
    clearTimeout(this.timer);
    this.timer = undefined;
    let frames = 0;
    while (this.queue.length > 0 && this.out.ready()) {
      this.out.send(this.queue.splice(0, LIMITS.ackMaxMessages), this.replies);
      if (this.replies) this.inFlight++;
      frames++;
    }
    return frames;
  }

  /** One ack frame was answered (or, `all`, none can be any more); waiters go on when none is left. */
  answered(all = false): void {
    this.inFlight = all ? 0 : this.inFlight - 1;
    if (this.inFlight > 0) return;
    for (const done of this.answeredWaiters.splice(0)) done();
  }

  /** Waits until every ack frame in flight is answered, or `timeoutMs` (call it only while `waiting`). */
  settled(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.answeredWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
