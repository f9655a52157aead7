/** leaveUnread: handing a socket on, after reading a handshake from it, as if nobody had read it. */
import type { Socket } from 'node:net';

/**
 * leaveUnread stops the flow of `socket` and puts it back in the state of a socket nobody has read
 * yet (Node's `readableFlowing === null`), so that adding a 'data' listener starts reading again,
 * as it does on a fresh socket. A plain `pause()` would need an explicit `resume()` from every
 * reader that comes after. Bytes already read stay buffered for that reader.
 */
export function leaveUnread(socket: Socket): void {
  socket.pause();
  (socket as { readableFlowing: boolean | null }).readableFlowing = null;
}
