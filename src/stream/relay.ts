/**
 * relay joins a connection to a local reader and writer, as netcat does with stdin and stdout:
 * input to the socket, the socket to output, both binary-safe and both with backpressure.
 */
import type { Readable, Writable } from 'node:stream';
import type { Conn } from './conn.js';

/** RelayOptions tune `relay`. */
export interface RelayOptions {
  /**
   * Stop when the peer closes its side, without waiting for `input` to end. Interactive use wants
   * this (a terminal never ends by itself); scripts that half-close want the default, false.
   */
  readonly stopOnPeerClose?: boolean | undefined;
}

/**
 * relay copies `input` to `conn` and `conn` to `output` until both directions are done: `input`'s
 * end half-closes the connection (FIN), and the peer's FIN ends the other direction. It resolves
 * once the connection is closed, and rejects with the connection's error if it failed.
 */
export function relay(
  conn: Conn,
  input: Readable,
  output: Writable,
  options: RelayOptions = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onInput = (chunk: Buffer): void => {
      if (!conn.write(chunk)) {
        input.pause();
        conn.socket.once('drain', () => input.resume());
      }
    };
    const onInputEnd = (): void => void conn.closeWrite();
    input.on('data', onInput);
    input.once('end', onInputEnd);
    conn.onData((chunk) => {
      if (!output.write(chunk)) {
        conn.pause();
        output.once('drain', () => conn.resume());
      }
    });
    conn.socket.once('end', () => {
      if (options.stopOnPeerClose) conn.close();
    });
    // Whoever read our output has gone (`sockkit connect ... | head`): stop, as netcat does, quietly.
    const onOutputError = (): void => conn.close();
    output.once('error', onOutputError);
    conn.socket.once('close', () => {
      input.off('data', onInput);
      input.off('end', onInputEnd);
      input.pause();
      output.off('error', onOutputError);
      if (conn.error) reject(conn.error);
      else resolve();
    });
  });
}
