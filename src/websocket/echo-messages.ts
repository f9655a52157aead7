/**
 * echoMessages is the echo service (RFC 862) for WebSocket: every message comes back as it came,
 * text as text and binary as binary.
 */
import type { WebSocketConn } from './websocket-conn.js';

/**
 * echoMessages sends each message `conn` receives back to it, one at a time: the next is read
 * only once the socket has room for the previous echo, so a client that sends without reading
 * fills its own socket buffers, not the server's memory (reading pauses: see WebSocketConn).
 * It never throws; a failed connection just ends. With `signal`, aborting it closes the
 * connection with 1001 (going away), the server's shutdown.
 */
export function echoMessages(conn: WebSocketConn, signal?: AbortSignal): void {
  const onAbort = (): void => void conn.close(1001, 'server shutting down');
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  void (async () => {
    for await (const message of conn) await conn.send(message.data, { binary: message.binary });
  })()
    // The connection's own error (a reset, a message too large) is in conn.error; nothing to add.
    .catch(() => conn.terminate())
    .finally(() => signal?.removeEventListener('abort', onAbort));
}
