/** joinSockets: the body of a tunnel, two connected sockets copied into each other. */
import type { Socket } from 'node:net';

/** JoinEnd says how a tunnel ended: both sides finished, or one failed (its error's message). */
export interface JoinEnd {
  readonly error: Error | undefined;
}

/**
 * joinSockets copies `client` to `upstream` and back, with backpressure each way (a side that
 * does not read slows the other, memory stays bounded), until both are closed. One side's end
 * (FIN) is passed on as an end, so a half-close crosses the tunnel. When one side closes while
 * the other still has bytes to deliver to it, or fails, the other is closed at once: nothing is
 * left open waiting for a peer that has gone. `head` is written to `upstream` first (bytes the
 * client sent with its handshake). Resolves once both are closed.
 */
export function joinSockets(client: Socket, upstream: Socket, head?: Buffer): Promise<JoinEnd> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    let open = 2;
    const onClose = (other: Socket) => (): void => {
      // The side that closed can take no more bytes: if the other still sends, cut it off.
      if (!other.destroyed && !other.readableEnded) other.destroy();
      open -= 1;
      if (open === 0) resolve({ error });
    };
    const onError = (err: Error): void => {
      error ??= err;
    };
    client.on('error', onError);
    upstream.on('error', onError);
    // A side that closed while the tunnel was being set up has had its 'close' already.
    if (client.closed) onClose(upstream)();
    else client.once('close', onClose(upstream));
    if (upstream.closed) onClose(client)();
    else upstream.once('close', onClose(client));
    if (head && head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}
