/**
 * PacketConn is one datagram (UDP) socket, the value that `listenPacket` and `dialPacket` return,
 * in the spirit of Go's `net.PacketConn`: datagrams keep their boundaries, each arrives with the
 * peer that sent it, and each send names its destination (or goes to the connected peer).
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { formatAddress, formatHostPort, type InetAddress } from '../address.js';
import { guardPacketTap, type PacketTap, type PacketTapFactory } from '../capture/tap.js';
import { AbortError, fromSystemError, NoReplyError, rewrap, SockkitError } from '../errors.js';
import { traceStep } from '../internal.js';
import { nextSocketId, type SocketKind, type Tracer, type TraceStep } from '../trace.js';
import { formatDuration, plural } from '../units.js';
import { byteSize, MAX_DATAGRAM_IPV4, maxDatagramSize, tooLarge } from './limits.js';
import {
  type DatagramPath,
  datagramPath,
  type NativeIo,
  openNativeIo,
  type WriteOutcome,
} from './native-io.js';

/** Peer is where a datagram came from or goes to: an IP literal and a port. Node's `RemoteInfo` is one. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** Datagram is one received message and the peer that sent it. */
export interface Datagram {
  readonly data: Buffer;
  readonly peer: Peer;
}

/** MessageHandler receives each datagram in flowing mode (see `PacketConn.onMessage`). */
export type MessageHandler = (data: Buffer, peer: Peer) => void;

/** ErrorHandler receives each failure the socket reports in flowing mode (see `PacketConn.onMessage`). */
export type ErrorHandler = (err: SockkitError) => void;

/** RequestOptions tune `PacketConn.request`. */
export interface RequestOptions {
  /** How long to wait for a reply to each attempt, in milliseconds. Default 1000. */
  readonly timeout?: number | undefined;
  /** How many times to send again when no reply came. Default 2 (three attempts in all). */
  readonly retries?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * PacketConnInit describes a bound dgram socket to wrap. Untraced, it moves its datagrams through
 * the native path when that is available (see `datagramPath`), so wrap the socket once it is bound
 * (and connected, if it is to be).
 */
export interface PacketConnInit {
  readonly localAddress: InetAddress;
  /** The peer of a connected socket: sends go there, and only its datagrams arrive. */
  readonly remoteAddress?: InetAddress | undefined;
  /** The socket kind for trace lines: `udp4` or `udp6`. */
  readonly kind: SocketKind;
  readonly trace?: Tracer | undefined;
  readonly socketId?: number | undefined;
  /** Datagrams held for a reader that has not caught up; past it, new ones are dropped. Default 4096. */
  readonly queueLimit?: number | undefined;
  /** Sends the kernel has not taken yet; past it, new sends are dropped. Default 1024. */
  readonly sendQueueLimit?: number | undefined;
  /** Asked for a tap that sees every datagram both ways (see Capture); none by default. */
  readonly tap?: PacketTapFactory | undefined;
}

type Waiter = { resolve: (d: Datagram | undefined) => void; reject: (e: SockkitError) => void };

/**
 * PacketConn wraps a bound `dgram.Socket`. It never throws from socket events: a failure (such as
 * an ICMP port unreachable reported on a connected socket) is kept in `error`, traced, and handed
 * to the next read, so one peer cannot crash a server. Read with `for await (const d of conn)` or
 * `conn.onMessage(fn)`; write with `write` (fire and forget) or `send` (resolves once sent).
 *
 * Memory stays bounded: unread datagrams beyond `queueLimit` and sends beyond `sendQueueLimit` are
 * dropped and counted in `dropped`, as a kernel drops what overflows its buffers. That is UDP's
 * contract; nothing is ever truncated or altered.
 *
 * Where sockkit's native addon is available (see `datagramPath`), an untraced PacketConn receives
 * its datagrams in batches (`recvmmsg`) and sends what is written in one turn of the event loop
 * with one `sendmmsg`; `batched` tells. Every guarantee above holds on both paths.
 */
export class PacketConn implements AsyncIterable<Datagram> {
  /** The underlying socket, for options sockkit does not wrap. */
  readonly socket: Socket;
  readonly localAddress: InetAddress;
  readonly remoteAddress: InetAddress | undefined;
  readonly socketId: number;
  /** path says how this socket's datagrams move (native batches or dgram) and why. */
  readonly path: DatagramPath;
  /** closed resolves once the socket is closed. It never rejects. */
  readonly closed: Promise<void>;
  #error: SockkitError | undefined;
  #datagramsReceived = 0;
  #bytesReceived = 0;
  #datagramsSent = 0;
  #bytesSent = 0;
  #dropped = 0;
  readonly #trace: Tracer | undefined;
  readonly #kind: SocketKind;
  readonly #url: string;
  readonly #queue: Datagram[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #queueLimit: number;
  readonly #sendQueueLimit: number;
  readonly #tap: PacketTap | undefined;
  #handler: MessageHandler | undefined;
  #onError: ErrorHandler | undefined;
  #isClosed = false;
  readonly #native: NativeIo | undefined;

  /** error is the latest error the socket reported that no read has consumed yet (an ICMP error, as refused). */
  get error(): SockkitError | undefined {
    return this.#error;
  }

  constructor(socket: Socket, init: PacketConnInit) {
    this.socket = socket;
    this.localAddress = init.localAddress;
    this.remoteAddress = init.remoteAddress;
    this.socketId = init.socketId ?? nextSocketId();
    this.#trace = init.trace;
    this.#kind = init.kind;
    this.#url = formatAddress(init.remoteAddress ?? init.localAddress);
    this.#queueLimit = init.queueLimit ?? 4096;
    this.#sendQueueLimit = init.sendQueueLimit ?? 1024;
    const tap = init.tap?.({
      kind: init.kind,
      socketId: this.socketId,
      local: { address: init.localAddress.host, port: init.localAddress.port },
    });
    this.#tap = tap && guardPacketTap(tap);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', (err) => this.#fail(err));
    socket.once('close', () => {
      this.#isClosed = true;
      this.#native?.close(); // closed by its owner through `socket`
      this[traceStep]('closed');
      this.#tap?.close();
      for (const waiter of this.#waiters.splice(0)) waiter.resolve(undefined);
    });
    // A traced or tapped socket sees each datagram through dgram's events: the plain path serves it.
    const path = datagramPath(process.env, {
      traced: init.trace !== undefined,
      tapped: this.#tap !== undefined,
    });
    this.#native = !path.native
      ? undefined
      : openNativeIo(socket, this.#sendQueueLimit, {
          receive: (data, peer) => {
            this.#receive(data, peer);
            // The socket's own 'message' event still fires for listeners a user added to it.
            if (socket.listenerCount('message') > 0) socket.emit('message', data, remoteInfo(data, peer));
          },
          fail: (err) => this.#fail(err),
        });
    if (!this.#native) socket.on('message', (data, peer) => this.#receive(data, peer));
    this.path =
      path.native && !this.#native ? { native: false, reason: 'the addon did not take this socket' } : path;
  }

  /** batched tells whether this socket moves its datagrams in batches through the native path. */
  get batched(): boolean {
    return this.#native !== undefined;
  }

  /** datagramsReceived counts the datagrams received so far, whoever read them. */
  get datagramsReceived(): number {
    return this.#datagramsReceived;
  }

  /** bytesReceived counts the payload bytes of the datagrams received so far. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** datagramsSent counts the datagrams handed to the kernel so far. */
  get datagramsSent(): number {
    return this.#datagramsSent;
  }

  /** bytesSent counts the payload bytes of the datagrams sent so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /**
   * dropped counts the datagrams this socket dropped: unread past `queueLimit`, sends past
   * `sendQueueLimit` or on a closed socket, and late replies `request` discarded (see the class
   * comment). Only the PacketConn updates it.
   */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * onMessage delivers every datagram to `handler` as it arrives (flowing mode), the lean path a
   * server uses: no queue, no promise per datagram. Use either onMessage or async iteration.
   * With `onError`, each failure the socket reports (an ICMP port unreachable as
   * `ERR_CONNECTION_REFUSED`, a send the kernel refused) goes to it as it happens, instead of
   * waiting in `error` for a read that flowing mode never makes.
   */
  onMessage(handler: MessageHandler, onError?: ErrorHandler): void {
    this.#handler = handler;
    this.#onError = onError;
    for (const { data, peer } of this.#queue.splice(0)) handler(data, peer);
  }

  /**
   * write sends `data` as one datagram to `peer` (or to the connected peer) without waiting.
   * Throws SockkitError `ERR_MESSAGE_TOO_LARGE` at once when `data` exceeds what one datagram can
   * carry; a datagram is never truncated. Send failures are reported like socket errors; on a
   * closed socket, or past `sendQueueLimit`, the datagram is dropped and counted in `dropped`.
   */
  write(data: Uint8Array | string, peer?: Peer): void {
    const size = byteSize(data);
    // Every datagram up to IPv4's limit fits either family: only a larger one needs the peer's.
    if (size > MAX_DATAGRAM_IPV4) {
      const family = this.#family(peer);
      if (size > maxDatagramSize(family)) throw tooLarge('send', this.#destinationUrl(peer), size, family);
    }
    // A peer named on a connected socket goes to dgram, which refuses it as before.
    if (this.#native && !this.#isClosed && !(peer && this.remoteAddress)) {
      // The addon keeps its own queue, bounded by sendQueueLimit.
      const outcome = this.#native.write(typeof data === 'string' ? Buffer.from(data) : data, peer);
      if (outcome === 'queued') {
        this.#datagramsSent += 1;
        this.#bytesSent += size;
        return;
      }
      if (outcome !== 'elsewhere') {
        this.#dropped += 1;
        return;
      }
    }
    // Closed (a server stopping), or the kernel is not keeping up: drop, as UDP may, and count it.
    if (this.#isClosed || this.socket.getSendQueueCount() >= this.#sendQueueLimit) {
      this.#dropped += 1;
      return;
    }
    this.#datagramsSent += 1;
    this.#bytesSent += size;
    if (this.#trace)
      this[traceStep]('sent', { bytes: size, address: this.#peerLabel(peer), data: bytesOf(data) });
    this.#tapSent(data, peer);
    if (peer) this.socket.send(data, peer.port, peer.address);
    else this.socket.send(data);
  }

  /**
   * send sends `data` as one datagram to `peer` (or to the connected peer) and resolves once the
   * kernel has taken it. Rejects with `ERR_MESSAGE_TOO_LARGE` for oversize data, or with the
   * system's error (`ERR_PERMISSION_DENIED` for a broadcast without `broadcast: true`, ...).
   */
  send(data: Uint8Array | string, peer?: Peer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const url = this.#destinationUrl(peer);
      const size = byteSize(data);
      const family = this.#family(peer);
      if (size > maxDatagramSize(family)) return reject(tooLarge('send', url, size, family));
      const done = (err: Error | null): void => {
        if (err) {
          reject(fromSystemError('send', url, err));
          return;
        }
        this.#datagramsSent += 1;
        this.#bytesSent += size;
        if (this.#trace)
          this[traceStep]('sent', { bytes: size, address: this.#peerLabel(peer), data: bytesOf(data) });
        resolve();
      };
      if (this.#isClosed) return reject(fromSystemError('send', url, closedError()));
      this.#tapSent(data, peer);
      let outcome: WriteOutcome | undefined;
      try {
        if (!(peer && this.remoteAddress))
          outcome = this.#native?.sendNow(typeof data === 'string' ? Buffer.from(data) : data, peer);
      } catch (err) {
        return reject(fromSystemError('send', url, err));
      }
      if (outcome === 'sent') return done(null);
      if (outcome === 'closed') return reject(fromSystemError('send', url, closedError()));
      if (peer) this.socket.send(data, peer.port, peer.address, done);
      else this.socket.send(data, done);
    }).catch((err: unknown) => {
      throw err instanceof SockkitError ? err : fromSystemError('send', this.#url, err);
    });
  }

  /**
   * read resolves with the next datagram, `undefined` once the socket is closed, or rejects with
   * the error the socket reported (`ERR_CONNECTION_REFUSED` on a connected socket whose peer
   * answered with ICMP port unreachable). With `timeout` (ms), it resolves `undefined` when
   * nothing came in time.
   */
  read(timeout?: number, signal?: AbortSignal): Promise<Datagram | undefined> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.error) {
      const err = this.error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.#isClosed || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
      };
      const waiter: Waiter = {
        resolve: (d) => {
          finish();
          resolve(d);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      const onAbort = (): void => waiter.resolve(undefined);
      const timer = timeout === undefined ? undefined : setTimeout(onAbort, timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * request sends `data` to the connected peer and resolves with the first datagram that comes
   * back, sending again up to `retries` times when none comes within `timeout` (UDP may lose
   * either datagram). Rejects with `ERR_CONNECTION_REFUSED` when the peer answers ICMP port
   * unreachable, `ERR_NO_REPLY` when every attempt went unanswered, or `ERR_ABORTED`. Its time is
   * bounded by `timeout × (retries + 1)`. Datagrams that were waiting unread when it was called are
   * discarded (and counted in `dropped`): they are late replies to an earlier exchange.
   */
  async request(data: Uint8Array | string, options: RequestOptions = {}): Promise<Datagram> {
    const timeout = options.timeout ?? 1000;
    const retries = options.retries ?? 2;
    if (!this.remoteAddress) throw new TypeError('request needs a connected PacketConn (use dialPacket)');
    if (!Number.isInteger(retries) || retries < 0)
      throw new RangeError(`retries must be 0 or more: ${retries}`);
    // Datagrams already waiting are late replies to an earlier exchange, not answers to this one.
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0)
        this[traceStep]('note', {
          detail: `no reply within ${formatDuration(timeout)}; retry ${attempt} of ${retries}`,
        });
      await this.send(data);
      const reply = await this.read(timeout, options.signal).catch((err: SockkitError) => {
        throw rewrap(err, 'send', this.#url);
      });
      if (options.signal?.aborted) throw new AbortError('send', this.#url);
      if (reply) return reply;
      if (this.#isClosed) break;
    }
    const attempts = retries + 1;
    throw new NoReplyError(
      'send',
      this.#url,
      `no reply after ${plural(attempts, 'attempt')} (${formatDuration(timeout)} each)`,
    );
  }

  /** close closes the socket; datagrams not yet read are discarded. Calling it twice is harmless. */
  close(): Promise<void> {
    if (!this.#isClosed) {
      this.#isClosed = true;
      // The dgram socket closes after the addon's descriptor, so that once `closed` resolves no
      // descriptor of this socket is open.
      if (this.#native) this.#native.close(() => this.socket.close());
      else this.socket.close();
    }
    return this.closed;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Datagram> {
    for (;;) {
      const datagram = await this.read();
      if (!datagram) return;
      yield datagram;
    }
  }

  /** [traceStep] reports a step of this socket to its tracer, if it has one (library-internal). */
  [traceStep](
    step: TraceStep,
    extra: { bytes?: number; address?: string; detail?: string; data?: Uint8Array } = {},
  ): void {
    this.#trace?.({ step, socketId: this.socketId, kind: this.#kind, ...extra });
  }

  #receive(data: Buffer, peer: Peer): void {
    this.#datagramsReceived += 1;
    this.#bytesReceived += data.length;
    if (this.#trace)
      this[traceStep]('recv', { bytes: data.length, address: formatHostPort(peer.address, peer.port), data });
    this.#tap?.datagram('in', data, peer);
    if (this.#handler) {
      this.#handler(data, peer);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve({ data, peer });
    else if (this.#queue.length < this.#queueLimit) this.#queue.push({ data: unshared(data), peer });
    else this.#dropped += 1;
  }

  /** #tapSent shows the tap a datagram about to be sent, before any reply to it can arrive. */
  #tapSent(data: Uint8Array | string, peer: Peer | undefined): void {
    if (!this.#tap) return;
    const to =
      peer ?? (this.remoteAddress && { address: this.remoteAddress.host, port: this.remoteAddress.port });
    if (to) this.#tap.datagram('out', bytesOf(data), to);
  }

  #fail(err: Error): void {
    const failure = fromSystemError('receive', this.#url, err);
    this[traceStep]('error', { detail: failure.reason });
    if (this.#handler && this.#onError) {
      this.#onError(failure);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.reject(failure);
    else this.#error = failure;
  }

  #family(peer: Peer | undefined): 4 | 6 {
    const host = peer?.address ?? this.remoteAddress?.host ?? '';
    // An IPv4 peer, or an IPv4-mapped one on a dual-stack socket, travels in an IPv4 packet.
    return host.includes('.') ? 4 : 6;
  }

  #destinationUrl(peer: Peer | undefined): string {
    return peer ? `udp://${formatHostPort(peer.address, peer.port)}` : this.#url;
  }

  #peerLabel(peer: Peer | undefined): string {
    if (peer) return formatHostPort(peer.address, peer.port);
    return this.remoteAddress ? formatHostPort(this.remoteAddress.host, this.remoteAddress.port) : '';
  }
}

/** bytesOf is what a trace event shows of a datagram: its bytes, a string taken as UTF-8. */
function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

/** remoteInfo is the peer as dgram's 'message' event describes it. */
function remoteInfo(data: Buffer, peer: Peer): RemoteInfo {
  const family = peer.address.includes(':') ? 'IPv6' : 'IPv4';
  return { address: peer.address, port: peer.port, family, size: data.byteLength };
}

/**
 * unshared returns `data`, or a copy of it when it is a small view into a larger buffer (a native
 * batch): a datagram held in the queue must not keep a whole batch's memory alive.
 */
function unshared(data: Buffer): Buffer {
  return data.buffer.byteLength > 2 * data.byteLength + 4096 ? Buffer.from(data) : data;
}

function closedError(): NodeJS.ErrnoException {
  return Object.assign(new Error('socket closed'), { code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' });
}
