/** The WebSocket a chat session runs over: the browser's, or the `ws` package's in Node. */

/** The minimal WebSocket surface the session needs (the browser's and the `ws` package's). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number): void;
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export const OPEN = 1;

/** Opens a socket: the global WebSocket where there is one, else the `ws` package. */
export async function defaultSocket(url: string): Promise<SocketLike> {
  const Native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
  if (Native) return new Native(url);
  const { default: WebSocket } = await import('ws');
  return new WebSocket(url) as unknown as SocketLike;
}
