/**
 * webSocketSide is the BridgeSide of a WebSocket connection, what websockify does: each message
 * received is passed on as its bytes (a text message as its UTF-8), and every chunk written is
 * sent as one binary message. A WebSocket has no half-close, so the ends map as follows.
 */
import { Readable, Writable } from 'node:stream';
import type { WebSocketConn } from '../websocket/websocket-conn.js';
import { type BridgeSide, endWritable } from './side.js';

/**
 * Close codes that end a WebSocket as a FIN ends TCP (RFC 6455 §7.4.1): normal closure, going
 * away, and a close frame without a code. Any other code, or no close frame at all (1006), is an
 * abnormal end, as a reset is.
 */
const NORMAL_CLOSE = new Set([1000, 1001, 1005]);

/**
 * webSocketSide wraps `conn` as a BridgeSide named `name`.
 *
 * - Reading: each message's bytes, in order; a normal close from the peer (1000, 1001, or no
 *   code) is the end of what it sends, passed on after every message before it. Any other close,
 *   or a failure, ends the side at once, as a reset does.
 * - Writing: each chunk is one binary message. `closeWrite` sends a close frame (1000) after
 *   everything written and resolves once the peer has answered it (or the close timeout passed):
 *   after that, what the peer still sends is lost, as a WebSocket has no half-close.
 * - Once the peer has closed, bytes still written are dropped and end the side, as a reset from
 *   a peer that has gone would; an end written instead (a FIN) ends it cleanly.
 * - Backpressure both ways: a full socket under the WebSocket holds the writer (see
 *   WebSocketConn.send), and a reader that does not keep up pauses reading from the peer.
 *
 * `close` sends a close frame (1001, going away) when the connection is still open, or drops it
 * at once when earlier bytes still wait for a peer that does not read them.
 */
export function webSocketSide(conn: WebSocketConn, name: string): BridgeSide {
  let settle: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const state = { webSocketClosed: false, readDone: false, writeDone: false };
  const settleWhenDone = (): void => {
    if (state.webSocketClosed && state.readDone && state.writeDone) settle();
  };

  const readable = new Readable({ read: () => conn.resume() });
  readable.once('close', () => {
    state.readDone = true;
    settleWhenDone();
  });
  conn.onMessage((message) => {
    if (!readable.push(message.data)) conn.pause();
  });

  const writable = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (state.webSocketClosed) {
        // The peer is gone: nobody will read this. End the side as a reset would.
        callback();
        writable.destroy();
        return;
      }
      conn.send(chunk, { binary: true }).then(
        () => callback(),
        () => callback(),
      );
    },
    final(callback) {
      if (state.webSocketClosed) return callback();
      void conn.close(1000).then(() => callback());
    },
  });
  writable.once('close', () => {
    state.writeDone = true;
    settleWhenDone();
  });
  // A write to the side once destroyed fails with an 'error' event: join then discards what is
  // left of that direction (see join's pump), and the error must not reach the process.
  writable.on('error', () => {});

  const onClose = (): void => {
    state.webSocketClosed = true;
    const code = conn.closeCode ?? 1006;
    if (!conn.error && NORMAL_CLOSE.has(code)) readable.push(null);
    else {
      readable.destroy();
      writable.destroy();
    }
    settleWhenDone();
  };
  if (conn.webSocket.readyState === conn.webSocket.CLOSED) queueMicrotask(onClose);
  else conn.webSocket.once('close', onClose);

  return {
    name,
    readable,
    writable,
    onData: (listener) => readable.on('data', listener),
    write: (chunk) => writable.write(chunk),
    closeWrite: () => endWritable(writable),
    close: () => {
      readable.destroy();
      writable.destroy();
      if (state.webSocketClosed) return;
      if (conn.bufferedAmount > 0) conn.terminate();
      else void conn.close(1001, 'going away');
    },
    closed,
    closesItself: true,
  };
}
