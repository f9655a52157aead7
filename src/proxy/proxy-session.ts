/**
 * One proxy client's session, as the protocol handlers (socks-session.ts, http-session.ts,
 * udp-associate.ts) share it: the options, the client and its reader, the handshake timer, the
 * connect to a destination under the rules, and the counts for its log line.
 */
import type { Socket } from 'node:net';
import { formatHostPort, type InetAddress } from '../address.js';
import { fromSystemError, type SockkitError, TimeoutError } from '../errors.js';
import { traceStep } from '../internal.js';
import { type Conn, peerLabel } from '../stream/conn.js';
import { dialSocket, dialTargets, resolveDialTargets } from '../stream/dial.js';
import { formatDuration } from '../units.js';
import type { Credentials } from './credentials.js';
import type { DestinationRules } from './destination-rules.js';
import { HandshakeReader } from './handshake-reader.js';
import { joinSockets } from './join-sockets.js';
import type { ProxyUrl } from './proxy-url.js';

/** DEFAULT_PROXY_HANDSHAKE_TIMEOUT: a client that has not sent its whole request by then is dropped (ms). */
export const DEFAULT_PROXY_HANDSHAKE_TIMEOUT = 10_000;
/** DEFAULT_PROXY_CONNECT_TIMEOUT bounds the connect to a destination (ms). */
export const DEFAULT_PROXY_CONNECT_TIMEOUT = 10_000;

/** REFUSAL_LINGER: how long a refused client may take to close after our answer (ms). */
const REFUSAL_LINGER = 2000;

/** ProxyServerOptions tune the proxy service. Every field is optional: without any, it is an open proxy. */
export interface ProxyServerOptions {
  /** The logins accepted; when it holds any, every client must log in (SOCKS4a, which cannot, is refused). */
  readonly users?: Credentials | undefined;
  /** Where clients may go; every destination when absent. */
  readonly rules?: DestinationRules | undefined;
  /**
   * Upstream proxies each tunnel goes through, in order. UDP ASSOCIATE goes through them too when
   * every one is SOCKS5, and is refused ("command not supported") otherwise.
   */
  readonly proxy?: readonly ProxyUrl[] | undefined;
  /** A client that has not sent its whole request within this many ms is dropped. Default 10 s. */
  readonly handshakeTimeout?: number | undefined;
  /** The connect to a destination may take this many ms. Default 10 s. */
  readonly connectTimeout?: number | undefined;
  /** report is told of each connection once it is over: one ProxyLogEvent each. It must not throw. */
  readonly report?: ((event: ProxyLogEvent) => void) | undefined;
}

/** ProxyLogEvent describes one client connection, once it is over: the one log line per connection. */
export interface ProxyLogEvent {
  /** The client, as `127.0.0.1:53122`. */
  readonly client: string;
  readonly protocol: 'socks5' | 'socks4a' | 'http' | 'unknown';
  /** What it asked for: a tunnel, UDP relaying, one forwarded HTTP request, or nothing (it never got that far). */
  readonly command: 'connect' | 'udp-associate' | 'forward' | 'none';
  /** Where it asked to go, as `host:port`, once known (an HTTP client's every origin, in order). */
  readonly destination: string | undefined;
  /** HTTP requests forwarded on the connection (0 for a tunnel or UDP relaying). */
  readonly requests: number;
  /** The user it logged in as, if any. */
  readonly user: string | undefined;
  /** Bytes carried from the client to the destination, and back (UDP: payload bytes). */
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly durationMs: number;
  /** `ok`, or what went wrong in a few words: `refused: destination denied by rule 10.0.0.0/8`. */
  readonly outcome: string;
}

/**
 * ProxySession is one client connection's state, for its log line, and what the protocol
 * handlers share: the client, its reader, the options.
 */
export class ProxySession {
  readonly conn: Conn;
  readonly reader: HandshakeReader;
  readonly options: ProxyServerOptions;
  protocol: ProxyLogEvent['protocol'] = 'unknown';
  command: ProxyLogEvent['command'] = 'none';
  destination: string | undefined;
  user: string | undefined;
  bytesUp = 0;
  bytesDown = 0;
  requests = 0;
  #outcome: string | undefined;
  readonly #started = performance.now();
  #handshakeTimer: NodeJS.Timeout | undefined;
  readonly #handshakeTimeout: number;

  constructor(conn: Conn, options: ProxyServerOptions) {
    this.conn = conn;
    this.options = options;
    this.reader = new HandshakeReader(conn.socket);
    this.#handshakeTimeout = options.handshakeTimeout ?? DEFAULT_PROXY_HANDSHAKE_TIMEOUT;
    this.#handshakeTimer = setTimeout(() => {
      this.fail(`dropped: no complete request within ${formatDuration(this.#handshakeTimeout)}`);
      conn.close();
    }, this.#handshakeTimeout);
  }

  /** handshakeDone stops the handshake timer: the client's request is in. */
  handshakeDone(): void {
    clearTimeout(this.#handshakeTimer);
  }

  /**
   * expectRequest re-arms the handshake timer for a further request on a kept-alive connection:
   * a client still silent when it fires is closed quietly (keep-alive is over), one part-way
   * through a request is dropped.
   */
  expectRequest(): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = setTimeout(() => {
      if (this.reader.buffered > 0)
        this.fail(`dropped: no complete request within ${this.#handshakeTimeout}ms`);
      this.conn.close();
    }, this.#handshakeTimeout);
  }

  /** fail records why the connection did not work out (the first reason wins). */
  fail(outcome: string): void {
    this.#outcome ??= outcome;
  }

  /**
   * end closes the connection after a refusal or a last response has been sent: our FIN once
   * what was written is out, and the socket once the client closes too, or REFUSAL_LINGER after
   * our FIN if it does not (it cannot hold the slot).
   */
  end(): void {
    const socket = this.conn.socket;
    socket.end();
    socket.resume();
    let timer: NodeJS.Timeout | undefined;
    socket.once('finish', () => {
      timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER);
    });
    socket.once('close', () => clearTimeout(timer));
  }

  /** note traces one step of the session (`--trace`). */
  note(detail: string): void {
    this.conn[traceStep]('note', { detail });
  }

  /** finish reports the connection, once it is closed. */
  finish(): void {
    clearTimeout(this.#handshakeTimer);
    const event: ProxyLogEvent = {
      client: peerLabel(this.conn.remoteAddress),
      protocol: this.protocol,
      command: this.command,
      destination: this.destination,
      user: this.user,
      bytesUp: this.bytesUp,
      bytesDown: this.bytesDown,
      requests: this.requests,
      durationMs: Math.round(performance.now() - this.#started),
      outcome: this.#outcome ?? 'ok',
    };
    try {
      this.options.report?.(event);
    } catch {
      // A reporter that throws loses its line, never the server.
    }
  }

  /**
   * tunnel joins the client to `upstream` (see joinSockets) with the bytes the client sent past
   * its request, and counts what crossed, until both are closed.
   */
  async tunnel(upstream: Socket): Promise<void> {
    const head = this.reader.release();
    const { error } = await joinSockets(this.conn.socket, upstream, head);
    this.bytesUp = upstream.bytesWritten;
    this.bytesDown = upstream.bytesRead;
    if (error) this.fail(`ended: ${fromSystemError('relay', '', error).reason}`);
  }
}

/** Upstream is what connecting to a destination came to: a socket, or the rule that refused it. */
export type Upstream = { readonly socket: Socket } | { readonly denied: string };

/**
 * connectUpstream connects to `host`:`port` for a client, if the rules allow: directly (the name
 * resolved here, and every address it has judged), or through the upstream proxies (the name
 * left to them: only name rules can then allow it). Rejects with the dial's SockkitError.
 */
export async function connectUpstream(
  host: string,
  port: number,
  options: ProxyServerOptions,
): Promise<Upstream> {
  const address: InetAddress = { scheme: 'tcp', host, port };
  const timeout = options.connectTimeout ?? DEFAULT_PROXY_CONNECT_TIMEOUT;
  const deadline = Date.now() + timeout;
  const rules = options.rules;
  if (options.proxy && options.proxy.length > 0) {
    const verdict = rules?.judge(host, port, []) ?? { allowed: true };
    if (!verdict.allowed) return { denied: verdict.reason };
    const dialed = await dialSocket(address, { timeout, proxy: options.proxy }, { allowHalfOpen: true });
    return { socket: dialed.socket };
  }
  const targets = await resolveDialTargets(address, {}, deadline);
  if (rules && !rules.empty) {
    const verdict = rules.judge(
      host,
      port,
      targets.map((t) => ('host' in t.target ? t.target.host : '')),
    );
    if (!verdict.allowed) return { denied: verdict.reason };
  }
  const dialed = await dialTargets(address, targets, {}, deadline, { allowHalfOpen: true });
  return { socket: dialed.socket };
}

/** describeConnectFailure words a failed connect to a destination for the log: `connect failed: connection refused`. */
export function describeConnectFailure(err: unknown): string {
  const failure = fromSystemError('connect', '', err) as SockkitError;
  return failure instanceof TimeoutError ? 'connect failed: timed out' : `connect failed: ${failure.reason}`;
}

/** destinationLabel writes a destination as the log does: `example.test:80`, `[::1]:7`. */
export function destinationLabel(host: string, port: number): string {
  return formatHostPort(host, port);
}
