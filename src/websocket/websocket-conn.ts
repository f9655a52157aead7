/**
 * WebSocketConn is one WebSocket connection (`ws://`, `wss://`), the value that `dial` returns and
 * a WebSocketListener yields for a WebSocket address. It is message-based, like a PacketConn: each
 * message keeps its boundary and says whether it was text or binary.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { formatAddress, formatHostPort, type WebSocketAddress } from '../address.js';
import {
  ConnectionResetError,
  FrameTooLargeError,
  fromSystemError,
  ProtocolError,
  type SockkitError,
  TimeoutError,
} from '../errors.js';
import { traceStep } from '../internal.js';
import type { SocketKind, Tracer, TraceStep } from '../trace.js';
import { formatDuration } from '../units.js';
import type { KeepaliveOptions } from './websocket-options.js';

/** WebSocketMessage is one message received: its bytes, and whether it was sent as text or binary. */
export interface WebSocketMessage {
  readonly data: Buffer;
  /** True for a binary message; false for a text one (its bytes are UTF-8, checked by the receiver). */
  readonly binary: boolean;
}

/** DEFAULT_MAX_MESSAGE_SIZE is the largest message a WebSocket accepts by default: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 << 20;

/** DEFAULT_MAX_BUFFERED is how many bytes may wait unsent, or received and unread, before the writer waits or reading pauses: 1 MiB. */
export const DEFAULT_MAX_BUFFERED = 1 << 20;

/** DEFAULT_CLOSE_TIMEOUT is how long `close` waits for the peer's close frame before dropping the connection: 5 s. */
export const DEFAULT_CLOSE_TIMEOUT = 5000;

/** Close codes a program may send (RFC 6455 §7.4.1-§7.4.2: 1000-1014 that are not reserved, and 3000-4999). */
function isSendableCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** ConnSettings are the settings of a WebSocketConn that both ends take from their options. */
export type ConnSettings = Pick<
  WebSocketConnInit,
  'maxBuffered' | 'maxMessageSize' | 'closeTimeout' | 'pingInterval' | 'pingTimeout'
>;

/** connSettings picks a WebSocketConn's settings out of a client's or a server's options. */
export function connSettings(options: ConnSettings): ConnSettings {
  const { maxBuffered, maxMessageSize, closeTimeout, pingInterval, pingTimeout } = options;
  return { maxBuffered, maxMessageSize, closeTimeout, pingInterval, pingTimeout };
}

/** WebSocketConnInit describes an open WebSocket to wrap. */
export interface WebSocketConnInit extends KeepaliveOptions {
  readonly localAddress: WebSocketAddress;
  readonly remoteAddress: WebSocketAddress;
  /** The socket under the WebSocket (a TCP or TLS socket). */
  readonly socket: Socket;
  /** The kind of that socket, for trace lines. */
  readonly kind: SocketKind;
  readonly socketId: number;
  readonly trace?: Tracer | undefined;
  /** Received bytes held for a reader that has not caught up before reading pauses. Default DEFAULT_MAX_BUFFERED. */
  readonly maxBuffered?: number | undefined;
  /** The largest message accepted, for the error that names it (the WebSocket enforces it). */
  readonly maxMessageSize?: number | undefined;
  readonly closeTimeout?: number | undefined;
}

type Waiter = { resolve: (m: WebSocketMessage | undefined) => void; reject: (e: SockkitError) => void };

/**
 * WebSocketConn wraps a `ws` WebSocket once its opening handshake is done. It never throws from
 * socket events: a failure (a protocol error, a message over the maximum, a peer that stopped
 * answering pings) is kept in `error`, traced, and ends the connection.
 *
 * Memory stays bounded both ways. Received messages wait for the reader up to `maxBuffered`
 * bytes; past that, reading from the socket pauses, so TCP slows the peer. `send` resolves only
 * once the socket has room again, so a writer that awaits it cannot outrun a peer that does not read.
 */
export class WebSocketConn implements AsyncIterable<WebSocketMessage> {
  /** The `ws` WebSocket, for what sockkit does not wrap. */
  readonly webSocket: WebSocket;
  /** The TCP or TLS socket under the WebSocket. */
  readonly socket: Socket;
  readonly localAddress: WebSocketAddress;
  readonly remoteAddress: WebSocketAddress;
  readonly socketId: number;
  /** closed resolves once the connection is closed, cleanly or not. It never rejects. */
  readonly closed: Promise<void>;
  #error: SockkitError | undefined;
  #closeCode: number | undefined;
  #closeReason = '';
  #messagesReceived = 0;
  #bytesReceived = 0;
  #messagesSent = 0;
  #bytesSent = 0;
  readonly #queue: WebSocketMessage[] = [];
  #queuedBytes = 0;
  #paused = false;
  readonly #waiters: Waiter[] = [];
  #handler: ((message: WebSocketMessage) => void) | undefined;
  readonly #maxBuffered: number;
  readonly #closeTimeout: number;
  readonly #trace: Tracer | undefined;
  readonly #kind: SocketKind;
  readonly #url: string;
  #isClosed = false;
  #closing = false;

  constructor(webSocket: WebSocket, init: WebSocketConnInit) {
    this.webSocket = webSocket;
    this.socket = init.socket;
    this.localAddress = init.localAddress;
    this.remoteAddress = init.remoteAddress;
    this.socketId = init.socketId;
    this.#trace = init.trace;
    this.#kind = init.kind;
    this.#maxBuffered = init.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    this.#closeTimeout = init.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.#url = formatAddress(init.remoteAddress);
    const maxMessage = init.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.closed = new Promise((resolve) => webSocket.once('close', () => resolve()));
    webSocket.on('message', (data: Buffer, isBinary: boolean) => this.#receive(data, isBinary));
    // ws reports a peer's protocol errors as 'error' and then closes: kept here, never thrown.
    webSocket.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        this.#fail(
          new FrameTooLargeError(
            'read',
            this.#url,
            maxMessage + 1,
            maxMessage,
            true,
            messageTooLarge(maxMessage),
          ),
        );
      } else if (err.code?.startsWith('WS_ERR_')) {
        this.#fail(
          new ProtocolError('read', this.#url, `the peer broke the WebSocket protocol (${err.code})`),
        );
      } else this.#fail(fromSystemError('read', this.#url, err));
    });
    webSocket.once('close', (code: number, reason: Buffer) => {
      this.#isClosed = true;
      this.#closeCode = code;
      this.#closeReason = reason.toString();
      this[traceStep]('note', { detail: closeLine(code, this.#closeReason, this.#closing) });
      const waiters = this.#waiters.splice(0);
      for (const waiter of waiters) {
        if (this.#error) waiter.reject(this.#error);
        else waiter.resolve(undefined);
      }
    });
    this.#startKeepalive(init);
    this[traceStep]('note', {
      detail: `WebSocket open${webSocket.protocol ? ` (subprotocol ${webSocket.protocol})` : ''}`,
    });
  }

  /** error is the first failure this connection met, if any; it ended the connection. */
  get error(): SockkitError | undefined {
    return this.#error;
  }

  /** protocol is the subprotocol the server chose (`Sec-WebSocket-Protocol`), or `''`. */
  get protocol(): string {
    return this.webSocket.protocol;
  }

  /** closeCode is the code of the close frame the peer sent (1005 when it had none, 1006 when there was no close frame), once closed. */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  /** closeReason is the reason text of the peer's close frame, once closed. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** messagesReceived counts the messages received so far, whoever read them. */
  get messagesReceived(): number {
    return this.#messagesReceived;
  }

  /** bytesReceived counts the payload bytes of the messages received so far. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** messagesSent counts the messages handed to the socket so far. */
  get messagesSent(): number {
    return this.#messagesSent;
  }

  /** bytesSent counts the payload bytes of the messages handed to the socket so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** bufferedAmount is how many bytes wait in the socket, not yet taken by the kernel. */
  get bufferedAmount(): number {
    return this.webSocket.bufferedAmount;
  }

  /**
   * write queues `data` as one message without waiting: a string as a text message, bytes as a
   * binary one (or text, with `binary: false`). It returns false when the socket holds more than
   * `maxBuffered` bytes: wait for `send`, or the socket's 'drain', before writing more. On a closed
   * connection the message is dropped and it returns false.
   */
  write(data: string | Uint8Array, options: { binary?: boolean } = {}): boolean {
    if (this.webSocket.readyState !== this.webSocket.OPEN) return false;
    const binary = options.binary ?? typeof data !== 'string';
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    this.#messagesSent += 1;
    this.#bytesSent += size;
    if (this.#trace) {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      this[traceStep]('sent', { bytes: size, address: this.#peerLabel(), data: bytes });
    }
    this.webSocket.send(data, { binary });
    return this.webSocket.bufferedAmount <= this.#maxBuffered;
  }

  /**
   * send sends `data` as one message (see `write`) and resolves once the socket holds at most
   * `maxBuffered` bytes. It rejects with the connection's error, or ConnectionResetError
   * (`ERR_CONNECTION_RESET`) when the connection is closed.
   */
  send(data: string | Uint8Array, options: { binary?: boolean } = {}): Promise<void> {
    if (this.webSocket.readyState !== this.webSocket.OPEN) return Promise.reject(this.#closedError());
    if (this.write(data, options)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        this.socket.off('drain', onDrain);
        reject(this.#closedError());
      };
      const onDrain = (): void => {
        if (this.webSocket.bufferedAmount > this.#maxBuffered) return;
        this.socket.off('drain', onDrain);
        this.webSocket.off('close', onClose);
        resolve();
      };
      this.socket.on('drain', onDrain);
      this.webSocket.once('close', onClose);
    });
  }

  /**
   * read resolves with the next message, or `undefined` once the connection has closed cleanly;
   * it rejects with the connection's error if it failed.
   */
  read(): Promise<WebSocketMessage | undefined> {
    const queued = this.#queue.shift();
    if (queued) {
      this.#queuedBytes -= queued.data.length;
      if (this.#paused && this.#queuedBytes <= this.#maxBuffered / 2) this.resume();
      return Promise.resolve(queued);
    }
    if (this.#isClosed) return this.#error ? Promise.reject(this.#error) : Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * onMessage delivers every message to `handler` as it arrives (flowing mode), the lean path a
   * load generator uses: no queue, no promise per message. Use either onMessage or `read` and
   * async iteration, not both. Pair it with `pause` and `resume` for backpressure.
   */
  onMessage(handler: (message: WebSocketMessage) => void): void {
    this.#handler = handler;
    const queued = this.#queue.splice(0);
    this.#queuedBytes = 0;
    for (const message of queued) handler(message);
    if (this.#paused) this.resume();
  }

  /** pause stops reading from the socket: the kernel's buffer then fills and TCP slows the peer. */
  pause(): void {
    this.#paused = true;
    this.webSocket.pause();
  }

  /** resume starts reading again after `pause`. */
  resume(): void {
    this.#paused = false;
    this.webSocket.resume();
  }

  /**
   * close starts the closing handshake with `code` (default 1000, normal closure) and `reason`
   * (at most 123 bytes of UTF-8, cut on a character boundary), and resolves once the connection is
   * closed: when the peer has answered with its own close frame, or after the close timeout.
   * Throws RangeError for a code a program may not send (RFC 6455 §7.4).
   */
  close(code = 1000, reason = ''): Promise<void> {
    if (!isSendableCode(code))
      throw new RangeError(`close code ${code} cannot be sent (1000-1014 or 3000-4999)`);
    if (this.#isClosed) return this.closed;
    if (!this.#closing) {
      this.#closing = true;
      const text = cutReason(reason);
      this[traceStep]('note', { detail: `close frame sent: ${code}${text ? ` "${text}"` : ''}` });
      this.webSocket.close(code, text);
      const timer = setTimeout(() => this.webSocket.terminate(), this.#closeTimeout);
      timer.unref();
      void this.closed.then(() => clearTimeout(timer));
    }
    return this.closed;
  }

  /** terminate drops the connection at once, without a closing handshake. */
  terminate(): void {
    this.webSocket.terminate();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WebSocketMessage> {
    for (;;) {
      const message = await this.read();
      if (!message) return;
      yield message;
    }
  }

  /** [traceStep] reports a step of this connection to its tracer, if it has one (library-internal). */
  [traceStep](
    step: TraceStep,
    extra: { bytes?: number; address?: string; detail?: string; data?: Uint8Array } = {},
  ): void {
    this.#trace?.({ step, socketId: this.socketId, kind: this.#kind, ...extra });
  }

  #receive(data: Buffer, binary: boolean): void {
    this.#messagesReceived += 1;
    this.#bytesReceived += data.length;
    if (this.#trace) this[traceStep]('recv', { bytes: data.length, address: this.#peerLabel(), data });
    const message = { data, binary };
    if (this.#handler) {
      this.#handler(message);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve(message);
      return;
    }
    this.#queue.push(message);
    this.#queuedBytes += data.length;
    if (!this.#paused && this.#queuedBytes > this.#maxBuffered) this.pause();
  }

  #fail(error: SockkitError): void {
    this.#error ??= error;
    this[traceStep]('error', { detail: error.reason });
  }

  #closedError(): SockkitError {
    return this.#error ?? new ConnectionResetError('send', this.#url, 'the connection is closed');
  }

  /**
   * #startKeepalive pings the peer every `pingInterval` and drops the connection when a ping goes
   * unanswered for `pingTimeout`: a peer whose host vanished sends no FIN nor RST, and a TCP
   * connection to it would otherwise look open for hours.
   */
  #startKeepalive(options: KeepaliveOptions): void {
    const interval = options.pingInterval ?? 0;
    if (interval <= 0) return;
    const timeout = options.pingTimeout ?? interval;
    let deadline: NodeJS.Timeout | undefined;
    const ws = this.webSocket;
    const onPong = (): void => {
      clearTimeout(deadline);
      deadline = undefined;
    };
    ws.on('pong', onPong);
    const ticker = setInterval(() => {
      if (deadline || ws.readyState !== ws.OPEN) return;
      ws.ping();
      deadline = setTimeout(() => {
        this.#fail(
          new TimeoutError(
            'read',
            this.#url,
            `no answer to a ping within ${formatDuration(timeout)}: the peer is gone (dead-peer timeout)`,
          ),
        );
        ws.terminate();
      }, timeout);
    }, interval);
    ws.once('close', () => {
      clearInterval(ticker);
      clearTimeout(deadline);
    });
  }

  #peerLabel(): string {
    return formatHostPort(this.remoteAddress.host, this.remoteAddress.port);
  }
}

function messageTooLarge(limit: number): string {
  return `a message exceeds the maximum of ${limit} bytes (closed with 1009)`;
}

/** closeLine words the end of a connection for `--trace`: the close handshake, or its absence. */
function closeLine(code: number, reason: string, weClosed: boolean): string {
  if (code === 1006) return 'closed without a close frame (1006: the connection dropped)';
  const text = reason ? ` "${reason}"` : '';
  return weClosed
    ? `close frame received in answer: ${code}${text}`
    : `close frame received: ${code}${text}; answered`;
}

/**
 * cutReason cuts `text` to what a close frame carries (123 bytes of UTF-8, RFC 6455 §5.5), on a
 * character boundary.
 */
export function cutReason(text: string): string {
  const chars = [...text];
  while (Buffer.byteLength(chars.join('')) > 123) chars.pop();
  return chars.join('');
}
