/**
 * ControlChannel reads the messages of the iperf3 control connection with the pure decoders of
 * control-codec.ts: bytes gather in a buffer until a decoder finds a whole message. Reading is
 * bounded: each read takes a deadline, and a connection that closes or breaks fails the read in
 * progress (and every later one) with one error.
 */

import { formatAddress } from '../address.js';
import { ConnectionResetError, type SockkitError, TimeoutError } from '../errors.js';
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
  #onReadable: (() => void) | undefined;

  constructor(conn: Conn, op: string) {
    this.conn = conn;
    this.#op = op;
    conn.onData((chunk) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      if (this.#buffer.length > MAX_BUFFERED) {
        this.#fail(
          new ConnectionResetError(op, this.url, 'the peer sent too much on the control connection'),
        );
        conn.close();
        return;
      }
      this.#drain();
      this.#onReadable?.();
    });
    conn.socket.on('end', () => this.#fail(this.#closed()));
    conn.socket.on('close', () => this.#fail(this.#closed()));
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

  /** onReadable calls `listener` each time bytes arrive (after any read in progress took its share). */
  onReadable(listener: (() => void) | undefined): void {
    this.#onReadable = listener;
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
    return (
      this.conn.error ??
      new ConnectionResetError(this.#op, this.url, 'the peer closed the control connection')
    );
  }

  #fail(err: SockkitError): void {
    this.#failure ??= err;
    this.#drain();
  }
}
