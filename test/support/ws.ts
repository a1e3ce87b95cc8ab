/** A small promise-based WebSocket client for tests. */
import WebSocket from 'ws';

export interface TestSocket {
  readonly socket: WebSocket;
  /** Resolves with the next text message. */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves with the close code. */
  closed: Promise<number>;
  send(text: string): void;
}

export function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    const queue: string[] = [];
    const waiting: Array<(text: string) => void> = [];
    socket.on('message', (data) => {
      const text = String(data);
      const waiter = waiting.shift();
      if (waiter) waiter(text);
      else queue.push(text);
    });
    const closed = new Promise<number>((done) => socket.on('close', (code) => done(code)));
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`HTTP ${response.statusCode}`)),
    );
    socket.once('open', () =>
      resolve({
        socket,
        closed,
        send: (text) => socket.send(text),
        next: (timeoutMs = 5000) =>
          new Promise((done, fail) => {
            const queued = queue.shift();
            if (queued !== undefined) return done(queued);
            const timer = setTimeout(() => fail(new Error('no message in time')), timeoutMs);
            waiting.push((text) => {
              clearTimeout(timer);
              done(text);
            });
          }),
      }),
    );
  });
}
