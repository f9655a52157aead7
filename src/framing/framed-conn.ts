/**
 * FramedConn speaks frames instead of bytes over any stream connection (tcp, unix, tls): it reads
 * with a Codec and writes with the same one.
 */
import { formatAddress } from '../address.js';
import { FrameTooLargeError, fromSystemError, SockkitError } from '../errors.js';
import type { Conn } from '../stream/conn.js';
import type { Codec } from './codec.js';
import { Deframer } from './deframer.js';

/**
 * FramedConn wraps a Conn. Iterate it (`for await (const frame of framed)`) to read frames; the
 * reading is pulled by the loop, so a consumer that takes its time stops the socket being read
 * and TCP flow control slows the peer (backpressure), with at most one chunk and one partial frame
 * held in memory. A frame over the codec's maximum, or a stream cut inside a frame, ends the
 * iteration with a SockkitError (`read tcp://…: frame of 70000 bytes exceeds the maximum of 65536
 * bytes`) and closes this connection, and only this one.
 */
export class FramedConn implements AsyncIterable<Buffer> {
  readonly conn: Conn;
  readonly codec: Codec;

  constructor(conn: Conn, codec: Codec) {
    this.conn = conn;
    this.codec = codec;
  }

  /** framesReceived counts the frames read so far. */
  framesReceived = 0;
  /** framesSent counts the frames written so far. */
  framesSent = 0;

  /**
   * write encodes `frame` and queues it; it returns false when the socket's buffer is full (wait
   * for `drain`, or use `send`). Throws like the codec's `encode` (FrameTooLargeError, RangeError).
   */
  write(frame: Uint8Array | string): boolean {
    const bytes = this.codec.encode(frame);
    this.framesSent += 1;
    return this.conn.write(bytes);
  }

  /** send encodes and writes `frame`, resolving once the socket can take more; rejects if the connection fails. */
  send(frame: Uint8Array | string): Promise<void> {
    const bytes = this.codec.encode(frame);
    this.framesSent += 1;
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
    const url = formatAddress(this.conn.remoteAddress);
    try {
      for await (const chunk of this.conn) {
        for (const frame of deframer.push(chunk)) {
          this.framesReceived += 1;
          yield frame;
        }
      }
      const last = deframer.end();
      if (last) {
        this.framesReceived += 1;
        yield last;
      }
    } catch (err) {
      this.conn.close();
      throw readError(url, err);
    }
    if (this.conn.error) throw this.conn.error;
  }
}

/** readError restates a codec's error for the connection it came from. */
function readError(url: string, err: unknown): SockkitError {
  if (err instanceof FrameTooLargeError) {
    return new FrameTooLargeError('read', url, err.size, err.limit, err.atLeast);
  }
  if (err instanceof SockkitError && err.op === 'decode') {
    return new SockkitError(err.code, 'read', url, err.reason, { cause: err });
  }
  return fromSystemError('read', url, err);
}
