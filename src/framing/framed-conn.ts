/**
 * FramedConn speaks frames instead of bytes over any stream connection (tcp, unix, tls): it reads
 * with a Codec and writes with the same one.
 */
import { formatAddress } from '../address.js';
import { FrameTooLargeError, fromSystemError, rewrap, SockkitError } from '../errors.js';
import { traceStep } from '../internal.js';
import { type Conn, peerLabel } from '../stream/conn.js';
import type { Codec } from './codec.js';
import { Deframer } from './deframer.js';

/** FramedConnOptions tune a FramedConn. */
export interface FramedConnOptions {
  /**
   * farewell returns a last frame to send when reading fails on the peer's bytes (a frame too
   * large, a malformed header), such as an error line for a person at a terminal. Default: none.
   */
  readonly farewell?: ((err: SockkitError) => Uint8Array | string | undefined) | undefined;
  /** How long a connection closed for bad input may linger to flush its farewell, in ms. Default 1000. */
  readonly linger?: number | undefined;
}

/**
 * FramedConn wraps a Conn. Iterate it (`for await (const frame of framed)`) to read frames; the
 * reading is pulled by the loop, so a consumer that takes its time stops the socket being read
 * and TCP flow control slows the peer (backpressure), with at most one chunk and one partial frame
 * held in memory. A frame over the codec's maximum, or a stream cut inside a frame, ends the
 * iteration with a SockkitError (`read tcp://…: frame of 70000 bytes exceeds the maximum of 65536
 * bytes`) and closes this connection, and only this one: reading stops, the farewell (if any) and
 * a FIN are sent, and the socket is closed after `linger`. Breaking out of the loop leaves the
 * connection open for the caller to close.
 */
export class FramedConn implements AsyncIterable<Buffer> {
  readonly conn: Conn;
  readonly codec: Codec;
  readonly #options: FramedConnOptions;
  #framesReceived = 0;
  #framesSent = 0;

  constructor(conn: Conn, codec: Codec, options: FramedConnOptions = {}) {
    this.conn = conn;
    this.codec = codec;
    this.#options = options;
  }

  /** framesReceived counts the frames read so far. */
  get framesReceived(): number {
    return this.#framesReceived;
  }

  /** framesSent counts the frames written so far (queued, or handed to the socket). */
  get framesSent(): number {
    return this.#framesSent;
  }

  /**
   * write encodes `frame` and queues it; it returns false when the socket's buffer is full (wait
   * for `drain`, or use `send`). Throws like the codec's `encode` (FrameTooLargeError, RangeError).
   */
  write(frame: Uint8Array | string): boolean {
    const bytes = this.codec.encode(frame);
    this.#framesSent += 1;
    return this.conn.write(bytes);
  }

  /** send encodes and writes `frame`, resolving once the socket can take more; rejects if the connection fails. */
  send(frame: Uint8Array | string): Promise<void> {
    const bytes = this.codec.encode(frame);
    this.#framesSent += 1;
    return this.conn.send(bytes);
  }

  /** closeWrite half-closes the connection once queued frames are sent (the peer reads EOF). */
  closeWrite(): Promise<void> {
    return this.conn.closeWrite();
  }

  /** close closes the connection at once. */
  close(): void {
    this.conn.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const deframer = new Deframer(this.codec);
    const conn = this.conn;
    const url = formatAddress(conn.remoteAddress);
    const peer = peerLabel(conn.remoteAddress);
    // destroyOnReturn: false, so that a consumer's `break` (or our own error) does not tear the
    // socket down before a farewell is flushed.
    const chunks = conn.socket.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
    try {
      for await (const chunk of chunks) {
        conn[traceStep]('recv', { bytes: chunk.length, address: peer });
        for (const frame of deframer.push(chunk)) {
          this.#framesReceived += 1;
          yield frame;
        }
      }
      const last = deframer.end();
      if (last) {
        this.#framesReceived += 1;
        yield last;
      }
    } catch (err) {
      const error = readError(url, err);
      if (!conn.socket.destroyed) this.#reject(error);
      throw error;
    }
    if (conn.error) throw conn.error;
  }

  /** reject closes a connection whose peer sent bytes the codec refused. */
  #reject(error: SockkitError): void {
    const conn = this.conn;
    conn.pause();
    const farewell = this.#options.farewell?.(error);
    if (farewell !== undefined) conn.write(this.codec.encode(farewell));
    void conn.closeWrite();
    setTimeout(() => conn.close(), this.#options.linger ?? 1000).unref();
  }
}
/** readError restates a codec's error for the connection it came from. */
function readError(url: string, err: unknown): SockkitError {
  if (err instanceof FrameTooLargeError) {
    return new FrameTooLargeError('read', url, err.size, err.limit, err.atLeast);
  }
  if (err instanceof SockkitError && err.op === 'decode') {
    return rewrap(err, 'read', url);
  }
  return fromSystemError('read', url, err);
}
