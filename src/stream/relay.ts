/**
 * relay joins a connection to a local reader and writer, as netcat does with stdin and stdout:
 * input to the socket, the socket to output, both binary-safe and both with backpressure.
 */
import type { Readable, Writable } from 'node:stream';
import { fromSystemError } from '../errors.js';
import type { Conn } from './conn.js';

/** RelayOptions tune `relay`. */
export interface RelayOptions {
  /**
   * Stop when the peer closes its side, without waiting for `input` to end. Interactive use wants
   * this (a terminal never ends by itself); scripts that half-close want the default, false.
   */
  readonly stopOnPeerClose?: boolean | undefined;
  /**
   * End `output` when the peer half-closes, so that whatever reads it (a program's stdin, another
   * socket) sees end-of-file in turn. Default false: `output` is left open, as stdout should be.
   */
  readonly endOutput?: boolean | undefined;
  /** Aborting it closes the connection at once; the relay then resolves. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * relay copies `input` to `conn` and `conn` to `output` until both directions are done: `input`'s
 * end half-closes the connection (FIN), and the peer's FIN ends the other direction (and `output`
 * too, with `endOutput`). Each direction has backpressure: a full socket pauses `input`, a full
 * `output` pauses the socket. It resolves once the connection is closed, and rejects with the
 * connection's error if it failed, or with the error of `input` (the connection is then closed,
 * so the peer does not mistake a broken input for its end). An `output` that fails (its reader
 * went away) closes the connection quietly. It leaves `input` paused and no listener behind.
 */
export function relay(
  conn: Conn,
  input: Readable,
  output: Writable,
  options: RelayOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    let inputError: Error | undefined;
    const onInput = (chunk: Buffer): void => {
      if (!conn.write(chunk)) {
        input.pause();
        conn.socket.once('drain', () => input.resume());
      }
    };
    const onInputEnd = (): void => void conn.closeWrite();
    const onInputError = (err: Error): void => {
      inputError ??= err;
      conn.close();
    };
    input.on('data', onInput);
    input.once('end', onInputEnd);
    input.on('error', onInputError);
    conn.onData((chunk) => {
      if (!output.write(chunk)) {
        conn.pause();
        output.once('drain', () => conn.resume());
      }
    });
    conn.socket.once('end', () => {
      if (options.endOutput) output.end();
      if (options.stopOnPeerClose) conn.close();
    });
    // Whoever read our output has gone (`sockkit connect ... | head`): stop, as netcat does, quietly.
    const onOutputError = (): void => conn.close();
    output.once('error', onOutputError);
    const onAbort = (): void => conn.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) conn.close();
    conn.socket.once('close', () => {
      input.off('data', onInput);
      input.off('end', onInputEnd);
      input.off('error', onInputError);
      input.pause();
      output.off('error', onOutputError);
      options.signal?.removeEventListener('abort', onAbort);
      if (inputError) reject(fromSystemError('read', '', inputError));
      else if (conn.error) reject(conn.error);
      else resolve();
    });
  });
}
