/**
 * Conn is one stream connection (TCP, Unix or TLS), the value that `dial` returns and a Listener
 * yields, in the spirit of Go's `net.Conn`.
 */
import type { Socket } from 'node:net';
import { formatAddress, type SocketAddress } from '../address.js';
import { openStreamTap, type StreamTap, type StreamTapFactory } from '../capture/tap.js';
import { ConnectionResetError, fromSystemError, type SockkitError } from '../errors.js';
import { traceStep } from '../internal.js';
import { nextSocketId, type SocketKind, type Tracer, type TraceStep } from '../trace.js';

/** ConnInit describes a connected socket to wrap. */
export interface ConnInit {
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  /** The socket kind for trace lines: `tcp4`, `tcp6`, `unix`, `tls`. */
  readonly kind: SocketKind;
  readonly trace?: Tracer | undefined;
  /** The socket id its trace events carry; a new one when omitted. */
  readonly socketId?: number;
  /** Asked for a tap that sees the connection's bytes both ways (a capture); none by default. */
  readonly tap?: StreamTapFactory | undefined;
  /** Whether this side dialed (`client`, the default) or accepted (`server`) the connection: taps need it. */
  readonly role?: 'client' | 'server' | undefined;
}

/**
 * Conn wraps a connected `net.Socket` (or `tls.TLSSocket`). It never throws from socket events:
 * a failure is kept in `error`, traced, and ends the connection, so one peer cannot crash a server.
 * Read with `for await (const chunk of conn)` or `conn.onData(fn)`; write with `write` or `send`.
 */
export class Conn implements AsyncIterable<Buffer> {
  /** The underlying socket, for options sockkit does not wrap (`setNoDelay`, `setKeepAlive`). */
  readonly socket: Socket;
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  readonly socketId: number;
  #error: SockkitError | undefined;
  readonly #trace: Tracer | undefined;
  readonly #kind: SocketKind;
  readonly #tap: StreamTap | undefined;
  #peer: string | undefined;
  #closed: Promise<void> | undefined;

  /** error is the first error this side met, if any (a reset, a timeout); it ends the connection. */
  get error(): SockkitError | undefined {
    return this.#error;
  }

  constructor(socket: Socket, init: ConnInit) {
    this.socket = socket;
    this.localAddress = init.localAddress;
    this.remoteAddress = init.remoteAddress;
    this.socketId = init.socketId ?? nextSocketId();
    this.#trace = init.trace;
    this.#kind = init.kind;
    // A server may hold thousands of idle connections, so a Conn allocates little up front: the
    // `closed` promise and the peer label are made when first asked for (docs/performance.md).
    socket.on('close', noteClosed);
    socket.on('error', (err) => {
      const error = this.#error ?? fromSystemError('read', formatAddress(this.remoteAddress), err);
      this.#error = error;
      this[traceStep]('error', { detail: error.reason });
    });
    if (this.#trace) {
      socket.once('end', () => this[traceStep]('peer-shutdown-write'));
      socket.once('close', () => this[traceStep]('closed'));
    }
    const role = init.role ?? 'client';
    this.#tap = init.tap
      ? openStreamTap(init.tap, socket, {
          kind: init.kind,
          role,
          socketId: this.socketId,
          url: formatAddress(role === 'client' ? init.remoteAddress : init.localAddress),
        })
      : undefined;
  }

  /** closed resolves once the socket is fully closed, whether cleanly or not. It never rejects. */
  get closed(): Promise<void> {
    this.#closed ??= closedSockets.has(this.socket)
      ? Promise.resolve()
      : new Promise((resolve) => this.socket.once('close', () => resolve()));
    return this.#closed;
  }

  /** tracing is true when this connection reports its steps to a tracer (`--trace`). */
  get tracing(): boolean {
    return this.#trace !== undefined;
  }

  /** bytesReceived counts the bytes read from the socket so far. */
  get bytesReceived(): number {
    return this.socket.bytesRead;
  }

  /** bytesSent counts the bytes handed to the socket so far, including any still queued. */
  get bytesSent(): number {
    return this.socket.bytesWritten;
  }

  /**
   * write queues `chunk` and returns false when the socket's buffer is full: the caller should
   * wait for `drain` (or use `send`) before writing more. That is how backpressure works.
   */
  write(chunk: Uint8Array | string): boolean {
    if (this.#trace) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this[traceStep]('sent', { bytes: data.byteLength, address: this.#peerLabel(), data });
    }
    this.#tap?.data('out', typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return this.socket.write(chunk);
  }

  /** send writes `chunk` and resolves once the socket can take more; it rejects if the connection fails. */
  send(chunk: Uint8Array | string): Promise<void> {
    return new Promise((resolve, reject) => {
      // Closed without an error: this side closed it (or both sides had finished); no peer to blame.
      const onClose = (): void =>
        reject(
          this.error ??
            new ConnectionResetError('write', formatAddress(this.remoteAddress), 'the connection is closed'),
        );
      if (this.socket.destroyed) return onClose();
      if (this.write(chunk)) return resolve();
      this.socket.once('close', onClose);
      this.socket.once('drain', () => {
        this.socket.off('close', onClose);
        resolve();
      });
    });
  }

  /**
   * onData delivers every chunk read to `listener` (flowing mode). Pair it with `pause()` and
   * `resume()` for backpressure. Use either onData or async iteration, not both.
   */
  onData(listener: (chunk: Buffer) => void): void {
    if (!this.#trace && !this.#tap) {
      this.socket.on('data', listener);
      return;
    }
    this.socket.on('data', (chunk: Buffer) => {
      if (this.#trace)
        this[traceStep]('recv', { bytes: chunk.length, address: this.#peerLabel(), data: chunk });
      this.#tap?.data('in', chunk);
      listener(chunk);
    });
  }

  /** pause stops reading from the socket; the kernel's buffer then fills and the peer is slowed (TCP flow control). */
  pause(): void {
    this.socket.pause();
  }

  /** resume starts reading again after `pause`. */
  resume(): void {
    this.socket.resume();
  }

  /**
   * closeWrite shuts down the write side (half-close, FIN): the peer reads EOF, and this side can
   * still read. It resolves once every queued byte has been handed to the kernel.
   */
  closeWrite(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.writableFinished || this.socket.destroyed) return resolve();
      this[traceStep]('shutdown-write');
      this.socket.end(() => resolve());
    });
  }

  /** close closes the connection at once, discarding anything still queued. */
  close(): void {
    this.socket.destroy();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // destroyOnReturn: false, so reading to EOF leaves our write side open (half-close).
    try {
      for await (const chunk of this.socket.iterator({ destroyOnReturn: false })) {
        if (this.#trace) {
          this[traceStep]('recv', {
            bytes: (chunk as Buffer).length,
            address: this.#peerLabel(),
            data: chunk as Buffer,
          });
        }
        this.#tap?.data('in', chunk as Buffer);
        yield chunk as Buffer;
      }
    } catch (err) {
      // A read that fails (a reset, a TLS alert) rejects with the same SockkitError as `error`.
      throw this.error ?? fromSystemError('read', formatAddress(this.remoteAddress), err);
    }
  }

  #peerLabel(): string {
    this.#peer ??= peerLabel(this.remoteAddress);
    return this.#peer;
  }

  /** [traceStep] reports a step of this connection to its tracer, if it has one (library-internal). */
  [traceStep](
    step: TraceStep,
    extra: { bytes?: number; address?: string; detail?: string; data?: Uint8Array } = {},
  ): void {
    this.#trace?.({ step, socketId: this.socketId, kind: this.#kind, ...extra });
  }
}

/** Sockets whose 'close' has fired; `noteClosed` is every Conn's one shared 'close' listener. */
const closedSockets = new WeakSet<Socket>();
function noteClosed(this: Socket): void {
  closedSockets.add(this);
}

/** peerLabel is how trace lines name a connection's peer: `127.0.0.1:53122`, or the socket path. */
export function peerLabel(address: SocketAddress): string {
  if (address.scheme === 'unix') return address.path === '' ? 'unix peer' : formatAddress(address);
  return formatAddress(address).replace(/^\w+:\/\//, '');
}
