/**
 * The shape of the one-answer stream services (daytime, time): send one reply, then close.
 */
import type { Conn } from '../stream/conn.js';

/**
 * replyAndClose sends `reply` on `conn` and half-closes it; whatever the client sends is read and
 * ignored (so its FIN is seen and the socket can close), and the connection closes once the
 * client closes its side too.
 */
export function replyAndClose(conn: Conn, reply: Uint8Array | string): void {
  conn.onData(ignore);
  conn.write(reply);
  void conn.closeWrite();
}

function ignore(): void {}
