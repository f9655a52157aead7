/**
 * BridgeSide is one end a bridge copies to and from, whatever it is: a connection, a program, or
 * the process's own stdin and stdout. `join` (join.ts) only ever sees this interface.
 */
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { traceStep } from '../internal.js';
import { tlsParentSocket } from '../node-internals.js';
import type { Conn } from '../stream/conn.js';
import { type HeldReads, readInto } from '../stream/read-into.js';

/** BridgeSide is what `join` reads from and writes to. */
export interface BridgeSide {
  /** What messages call this side: a URL, `exec:cat`, `-`. */
  readonly name: string;
  /** The stream read from: its 'data', 'end', pause and resume are used. */
  readonly readable: Readable;
  /** The stream written to: its 'drain' and 'error' are used. */
  readonly writable: Writable;
  /**
   * onData delivers each chunk read (a connection's trace lines come from here). The listener
   * returns true when it still holds the chunk after the call (a write still queued): the side
   * must not then reuse the chunk's memory for a later read.
   */
  onData(listener: (chunk: Buffer) => boolean): void;
  /** write writes a chunk and returns false when the writer should wait for 'drain'. */
  write(chunk: Buffer): boolean;
  /**
   * closeWrite ends the direction written to (a FIN, or the program's stdin closed) and resolves
   * once everything written before has been handed on. It never rejects.
   */
  closeWrite(): Promise<void>;
  /** close ends the side at once (or, for a program, starts its end: see program.ts). */
  close(): void;
  /**
   * closed resolves once the side is closed. A connection may close by itself (a reset, the peer
   * closing), and the bridge then ends; a program or stdio closes only when `close` is called.
   */
  readonly closed: Promise<void>;
  /** True when the side may close by itself: `join` then ends the bridge when it does. */
  readonly closesItself: boolean;
  /** reset ends the side abruptly (a TCP RST for a connection); a side without one is closed. */
  reset?(): void;
  /** note adds a line to the side's trace (a fault injected on it), when it is traced. */
  note?(detail: string): void;
}

/**
 * connSide is the BridgeSide of a stream connection, traced as the Conn is. With `fastReads`
 * (for a connection that is neither traced nor tapped: the caller knows) a plain TCP or Unix
 * socket is read without the readable-stream machinery (see readInto), which cuts a forward's
 * CPU time per message. `fastReads` may also be the HeldReads of a socket already read that way
 * (see readIntoHeld): its held bytes come first.
 */
export function connSide(conn: Conn, name: string, fastReads: boolean | HeldReads = false): BridgeSide {
  return {
    name,
    readable: conn.socket,
    writable: conn.socket,
    onData: (listener) => {
      if (typeof fastReads === 'object') fastReads.release(listener);
      else if (!fastReads || conn.tracing || !readInto(conn.socket, listener)) conn.onData(listener);
    },
    write: (chunk) => conn.write(chunk),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
    closed: conn.closed,
    closesItself: true,
    reset: () => resetSocket(conn.socket),
    note: (detail) => conn[traceStep]('note', { detail }),
  };
}

/**
 * streamSide is the BridgeSide of a plain pair of streams (`-`: stdin and stdout). Its write
 * direction is ended only when `endOutput` is set: stdout is normally left open.
 */
export function streamSide(name: string, input: Readable, output: Writable, endOutput = false): BridgeSide {
  let close: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  return {
    name,
    readable: input,
    writable: output,
    onData: (listener) => {
      input.on('data', listener);
    },
    write: (chunk) => output.write(chunk),
    closeWrite: () => (endOutput ? endWritable(output) : Promise.resolve()),
    close: () => {
      input.pause();
      close();
    },
    closed,
    closesItself: false,
  };
}

/**
 * endWritable ends `stream` and resolves once what was written is handed on, or at once when it
 * is ended or destroyed already; a stream that fails meanwhile resolves it too (never rejects).
 */
export function endWritable(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableEnded || stream.destroyed) return resolve();
    stream.once('error', () => resolve());
    stream.end(() => resolve());
  });
}

/**
 * resetSocket sends a TCP RST and destroys `socket`. A server-side TLS socket is reset through
 * the TCP socket it wraps; a socket with no TCP handle of its own (Unix, client-side TLS) is
 * destroyed, the closest it has.
 */
export function resetSocket(socket: Socket): void {
  const tcp = tlsParentSocket(socket) ?? socket;
  try {
    if (!tcp.destroyed) tcp.resetAndDestroy();
  } catch {
    // ERR_INVALID_HANDLE_TYPE: not a TCP handle.
  }
  socket.destroy();
}
