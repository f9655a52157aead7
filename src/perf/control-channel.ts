/**
 * ControlChannel reads the messages of the iperf3 control connection with the pure decoders of
 * control-codec.ts: bytes gather in a buffer until a decoder finds a whole message. Reading is
 * bounded: each read takes a deadline, and a connection that closes or breaks fails the read in
 * progress (and every later one) with one error.
 */

import { formatAddress } from '../address.js';
import { ConnectionResetError, rewrap, type SockkitError, TimeoutError } from '../errors.js';
import type { Conn } from '../stream/conn.js';

/** Decoder finds one message at the start of a buffer, or undefined for "need more". */
export type Decoder<T> = (buffer: Buffer) => { value: T; used: number } | undefined;

interface PendingRead {
  readonly decode: Decoder<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/** MAX_BUFFERED bounds what a peer may send ahead of what is read: a flood closes the connection. */
const MAX_BUFFERED = 2 << 20;

/**
 * ControlChannel wraps the control Conn. One read at a time; messages that arrive early wait in
 * the buffer. `onMessage` may instead watch for states arriving while nothing reads (the server
 * watching for TEST_END while streams run).
 */
export class ControlChannel {
  readonly conn: Conn;
  readonly #op: string;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: PendingRead | undefined;
  #failure: SockkitError | undefined;
  #failed: Promise<never> | undefined;
  #onFailure: ((err: Error) => void) | undefined;

  /**
   * With `readsItself` false, whoever already reads the socket passes the bytes to `push` (the
   * server, which read the cookie in front of them).
   */
  constructor(conn: Conn, op: string, readsItself = true) {
    this.conn = conn;
    this.#op = op;
    if (readsItself) conn.onData((chunk) => this.push(chunk));
    conn.socket.on('end', () => this.#fail(this.#closed()));
    conn.socket.on('close', () => this.#fail(this.#closed()));
  }

  /** push adds bytes read from the connection; it copies them, so the caller may reuse its buffer. */
  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (this.#buffer.length > MAX_BUFFERED) {
      this.#fail(
        new ConnectionResetError(this.#op, this.url, 'the peer sent too much on the control connection'),
      );
      this.conn.close();
      return;
    }
    this.#drain();
  }

  /** url is the peer's address, for messages. */
  get url(): string {
    return formatAddress(this.conn.remoteAddress);
  }

  /** buffered is how many received bytes wait to be read. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** failure is the error that ended the channel, if it has ended. */
  get failure(): SockkitError | undefined {
    return this.#failure;
  }

  /**
   * read resolves with the next message `decode` finds. It rejects with TimeoutError after
   * `timeout` ms (when given), with the decoder's error for bytes that are not a message, and with
   * ConnectionResetError once the peer has closed or reset the connection.
   */
  read<T>(decode: Decoder<T>, timeout?: number, what = 'a control message'): Promise<T> {
    if (this.#pending) return Promise.reject(new Error('ControlChannel: one read at a time'));
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(() => {
              this.#pending = undefined;
              reject(new TimeoutError(this.#op, this.url, `no ${what} within ${Math.round(timeout)} ms`));
            }, timeout);
      this.#pending = { decode, resolve: resolve as (value: unknown) => void, reject, timer };
      this.#drain();
    });
  }

  /** failed rejects with the channel's error once the peer closes or resets the connection. It never resolves. */
  get failed(): Promise<never> {
    this.#failed ??= new Promise<never>((_, reject) => {
      if (this.#failure) reject(this.#failure);
      else this.#onFailure = reject;
    });
    // Nobody may be waiting on it; a rejection nobody awaits is not a crash.
    this.#failed.catch(() => {});
    return this.#failed;
  }

  /**
   * cancelRead gives up the read in progress, if any: its promise never settles, and the bytes
   * it was waiting for stay for the next read.
   */
  cancelRead(): void {
    this.#settle();
  }

  /** write sends `bytes`; a failure shows up on the next read. */
  write(bytes: Buffer): void {
    if (!this.conn.socket.destroyed) this.conn.write(bytes);
  }

  /** close closes the control connection once what was written has gone out. */
  close(): void {
    if (this.conn.socket.destroyed) return;
    this.conn.socket.end();
    this.conn.socket.destroySoon();
  }

  #drain(): void {
    const pending = this.#pending;
    if (!pending) return;
    let found: { value: unknown; used: number } | undefined;
    try {
      found = pending.decode(this.#buffer);
    } catch (err) {
      this.#settle();
      pending.reject(err as Error);
      return;
    }
    if (found) {
      this.#buffer = this.#buffer.subarray(found.used);
      this.#settle();
      pending.resolve(found.value);
    } else if (this.#failure) {
      this.#settle();
      pending.reject(this.#failure);
    }
  }

  #settle(): void {
    if (this.#pending?.timer) clearTimeout(this.#pending.timer);
    this.#pending = undefined;
  }

  #closed(): SockkitError {
    const error = this.conn.error;
    // A reset names the test's operation, as every other failure of the test does.
    if (error) return rewrap(error, this.#op, this.url);
    return new ConnectionResetError(this.#op, this.url, 'the peer closed the control connection');
  }

  #fail(err: SockkitError): void {
    this.#failure ??= err;
    this.#onFailure?.(this.#failure);
    this.#drain();
  }
}
