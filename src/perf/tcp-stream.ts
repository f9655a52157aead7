/**
 * TCP data streams: TcpSender writes one block again and again, as fast as the socket takes it (or
 * at a target bitrate); TcpReceiver counts what arrives. Both work on a plain socket whose cookie
 * has already been exchanged.
 */
import type { Socket } from 'node:net';
import { fromSystemError, type SockkitError } from '../errors.js';
import type { Conn } from '../stream/conn.js';
import { readInto } from '../stream/read-into.js';
import { EMPTY_COUNTS, type PerfStream, type StreamCounts } from './perf-stream.js';

/**
 * How many bytes a sender lets Node hold beyond what the kernel took. A write of one block
 * always exceeds the socket's 16 KiB high-water mark, so waiting for 'drain' after each write
 * would cost an event-loop turn per block; keeping a few blocks queued keeps the kernel fed.
 */
const QUEUE_BLOCKS = 4;

/** The most blocks written in one turn of the event loop. */
const WRITES_PER_TURN = 16;

/** TcpSender sends blocks of `blockLength` bytes on one stream. */
export class TcpSender implements PerfStream {
  readonly id: number;
  readonly sender = true;
  readonly #conn: Conn;
  readonly #block: Buffer;
  readonly #bitrate: number;
  #bytes = 0;
  #running = false;
  #waiting = false;
  #scheduled = false;
  #startedAt = 0;
  #bytesAtStart = 0;

  constructor(id: number, conn: Conn, blockLength: number, bitrate = 0) {
    this.id = id;
    this.#conn = conn;
    // Repeating, recognisable content rather than zeros, as iperf3's default payload is not zeros.
    this.#block = Buffer.alloc(blockLength, '0123456789');
    this.#bitrate = bitrate;
    conn.socket.on('drain', () => {
      this.#waiting = false;
      if (!this.#scheduled) this.#pump();
    });
    // The peer may send nothing; reading keeps a reset visible and the buffer empty.
    conn.socket.on('data', () => {});
  }

  get error(): SockkitError | undefined {
    return this.#conn.error;
  }

  /**
   * counts gives the bytes handed to the socket. A few blocks may still wait in Node's queue when
   * the sender stops; they go out all the same (the stream is not destroyed before the results).
   */
  counts(): StreamCounts {
    return { ...EMPTY_COUNTS, bytes: this.#bytes };
  }

  start(): void {
    this.#running = true;
    this.#startedAt = performance.now();
    this.#bytesAtStart = this.#bytes;
    this.#pump();
  }

  stop(): void {
    this.#running = false;
  }

  reset(): void {
    this.#bytes = 0;
    this.#startedAt = performance.now();
    this.#bytesAtStart = 0;
  }

  close(): void {
    this.#running = false;
    this.#conn.close();
  }

  #pump = (): void => {
    this.#scheduled = false;
    const socket = this.#conn.socket;
    const limit = this.#block.length * QUEUE_BLOCKS;
    for (let written = 0; this.#running && !this.#waiting && !socket.destroyed; written++) {
      if (this.#bitrate > 0 && this.#ahead()) return;
      if (written === WRITES_PER_TURN) {
        // The kernel keeps taking blocks: let timers and the control connection have a turn.
        this.#scheduled = true;
        setImmediate(this.#pump);
        return;
      }
      socket.write(this.#block);
      this.#bytes += this.#block.length;
      if (socket.writableLength >= limit) this.#waiting = true;
    }
  };

  /** #ahead tells whether the stream is ahead of its bitrate, and if so wakes it when it is due. */
  #ahead(): boolean {
    const elapsed = (performance.now() - this.#startedAt) / 1000;
    const due = (this.#bitrate / 8) * elapsed;
    const sent = this.#bytes - this.#bytesAtStart;
    if (sent < due) return false;
    const wait = Math.max(1, ((sent - due) / (this.#bitrate / 8)) * 1000);
    this.#waiting = true;
    setTimeout(() => {
      this.#waiting = false;
      this.#pump();
    }, wait).unref();
    return true;
  }
}

/** TcpReceiver counts the bytes one stream receives while counting is on. */
export class TcpReceiver implements PerfStream {
  readonly id: number;
  readonly sender = false;
  readonly #conn: Conn;
  #bytes = 0;
  #counting = false;

  /**
   * The constructor starts reading at once (without counting) so the sender never blocks on a
   * full window. With `readsItself` false, whoever already reads the socket passes the bytes to
   * `accept` instead (the server, which read the cookie in front of them).
   */
  constructor(id: number, conn: Conn, readsItself = true) {
    this.id = id;
    this.#conn = conn;
    if (!readsItself) return;
    const socket = conn.socket;
    if (!readInto(socket, (chunk) => this.#count(chunk.length))) {
      socket.on('data', (chunk: Buffer) => this.#count(chunk.length));
    }
  }

  /**
   * accept takes bytes read by someone else on this stream's socket (a server that read the
   * cookie and the bytes after it in one go).
   */
  accept(chunk: Buffer): void {
    this.#count(chunk.length);
  }

  get error(): SockkitError | undefined {
    return this.#conn.error;
  }

  counts(): StreamCounts {
    return { ...EMPTY_COUNTS, bytes: this.#bytes };
  }

  start(): void {
    this.#counting = true;
  }

  stop(): void {
    this.#counting = false;
  }

  reset(): void {
    this.#bytes = 0;
  }

  close(): void {
    this.#conn.close();
  }

  #count(length: number): void {
    if (this.#counting) this.#bytes += length;
  }
}

/** writeAll writes `bytes` on `socket` and resolves once the kernel has them, or rejects as the socket fails. */
export function writeAll(socket: Socket, bytes: Buffer, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (err) => (err ? reject(fromSystemError('send', url, err)) : resolve()));
  });
}
