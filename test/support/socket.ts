// Waiting for a socket.io client's next message in the live-channel tests.
import type { Socket } from 'socket.io-client';

/**
 * The next `name` message `socket` receives that `accept` takes (any, by default); rejects
 * naming the message when none comes within `timeoutMs`.
 */
export function nextMessage<T>(
  socket: Socket,
  name: string,
  timeoutMs: number,
  accept: (payload: T) => boolean = () => true,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (payload: T) => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      socket.off(name, listener);
      resolve(payload);
    };
    const timer = setTimeout(() => {
      socket.off(name, listener);
      reject(new Error(`no ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on(name, listener);
  });
}
