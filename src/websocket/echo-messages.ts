/**
 * echoMessages is the echo service (RFC 862) for WebSocket: every message comes back as it came,
 * text as text and binary as binary.
 */
import type { WebSocketConn } from './websocket-conn.js';

/**
 * echoMessages sends each message `conn` receives back to it as it arrives. The echo is queued in
 * the same turn the message is read, before a close frame that follows it in the same read can
 * be answered, so a client that sends and closes at once still gets every echo. When the socket
 * holds more than its limit, reading pauses until the socket drains, so a client that sends
 * without reading fills its own buffers, not the server's memory. It never throws; a failed
 * connection just ends. With `signal`, aborting it closes the connection with 1001 (going away),
 * the server's shutdown.
 */
export function echoMessages(conn: WebSocketConn, signal?: AbortSignal): void {
  const onAbort = (): void => void conn.close(1001, 'server shutting down');
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  void conn.closed.finally(() => signal?.removeEventListener('abort', onAbort));
  conn.onMessage((message) => {
    if (conn.write(message.data, { binary: message.binary })) return;
    conn.pause();
    conn.socket.once('drain', () => conn.resume());
  });
}
