/**
 * relayFrames joins a framed connection to a line-oriented reader and writer, as `connect --frame`
 * does with stdin and stdout: each line typed is one frame, each frame received is one line.
 */
import type { Readable, Writable } from 'node:stream';
import { formatAddress } from '../address.js';
import { fromSystemError, rewrap, type SockkitError } from '../errors.js';
import { Deframer } from './deframer.js';
import type { FramedConn } from './framed-conn.js';
import { lineCodec } from './line.js';

/** RelayFramesOptions tune `relayFrames`. */
export interface RelayFramesOptions {
  /**
   * Stop when the peer closes its side, without waiting for `input` to end (interactive use: a
   * terminal never ends by itself). Default false: the rest of `input` is still sent.
   */
  readonly stopOnPeerClose?: boolean | undefined;
  /** Aborting it closes the connection at once; the relay then resolves. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * relayFrames sends each line of `input` as one frame on `framed`, and writes each frame received
 * to `output` followed by a newline, with backpressure both ways, until both directions are done.
 *
 * Lines are bytes, not text: they are sent exactly as read, without their `\n` (or `\r\n`), and the
 * last line needs no newline. A line longer than the codec's largest frame is refused as soon as it
 * is seen to be, without buffering the rest of it: the relay rejects with FrameTooLargeError
 * (`write tcp://…: frame of at least 65537 bytes exceeds the maximum of 65536 bytes`) and closes
 * the connection. The end of `input` half-closes the connection; the relay resolves once the peer
 * has closed too (or at its FIN, with `stopOnPeerClose`), and rejects with the read error when the
 * peer's bytes do not frame, or with the connection's error. An `output` that fails (its reader
 * went away) closes the connection quietly. It leaves `input` paused and no listener behind.
 */
export async function relayFrames(
  framed: FramedConn,
  input: Readable,
  output: Writable,
  options: RelayFramesOptions = {},
): Promise<void> {
  const conn = framed.conn;
  const url = formatAddress(conn.remoteAddress);
  const lines = new Deframer(lineCodec({ maxLength: framed.codec.maxFrameSize }));
  // Set once the relay stops on purpose (abort, output gone, a bad line): the read loop ending
  // early is then expected, not a failure.
  let stopped = false;
  let failure: SockkitError | undefined;
  let inputDone: () => void = () => {};
  const inputFinished = new Promise<void>((resolve) => {
    inputDone = resolve;
  });

  const stopInput = (): void => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('error', onInputError);
    input.pause();
    inputDone();
  };
  const stop = (err?: SockkitError): void => {
    stopped = true;
    failure ??= err;
    stopInput();
    conn.close();
  };
  const writeLines = (found: Iterable<Buffer>): boolean => {
    let more = true;
    for (const line of found) more = framed.write(line) && more;
    return more;
  };
  function onData(chunk: Buffer): void {
    if (conn.socket.destroyed) return;
    try {
      if (writeLines(lines.push(chunk))) return;
    } catch (err) {
      stop(rewrap(err, 'write', url));
      return;
    }
    input.pause();
    conn.socket.once('drain', () => input.resume());
  }
  function onEnd(): void {
    try {
      const last = lines.end();
      if (last && !conn.socket.destroyed) writeLines([last]);
    } catch (err) {
      stop(rewrap(err, 'write', url));
      return;
    }
    stopInput();
    void framed.closeWrite();
  }
  function onInputError(err: Error): void {
    stop(fromSystemError('read', '', err));
  }
  const onOutputGone = (): void => stop();
  const onAbort = (): void => stop();

  input.on('data', onData);
  input.once('end', onEnd);
  input.once('error', onInputError);
  output.once('error', onOutputGone);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop();
  try {
    try {
      for await (const frame of framed) {
        if (!output.write(Buffer.concat([frame, NEWLINE]))) await drained(output);
        if (stopped) break;
      }
    } catch (err) {
      if (!stopped) throw err;
    }
    if (failure) throw failure;
    // The peer is done sending. Interactive use stops here; a script's input, if the peer only
    // half-closed, is still sent to the end.
    if (options.stopOnPeerClose || conn.socket.destroyed) stopInput();
    await inputFinished;
    if (failure) throw failure;
    await framed.closeWrite();
  } finally {
    stopInput();
    output.off('error', onOutputGone);
    options.signal?.removeEventListener('abort', onAbort);
    conn.close();
    await conn.closed;
  }
}

const NEWLINE = Buffer.from('\n');

/** drained resolves once `output` can take more, or once it failed or closed (nothing more will come). */
function drained(output: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      output.off('drain', done);
      output.off('error', done);
      output.off('close', done);
      resolve();
    };
    output.once('drain', done);
    output.once('error', done);
    output.once('close', done);
  });
}
