/**
 * listen opens a stream listener (TCP, Unix or TLS) and hands out accepted connections, in the
 * spirit of Go's `net.Listen`: create, bind, listen; then accept, concurrently, as many as arrive.
 * The transport is the address's scheme (see transports.ts).
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import { formatAddress, formatHostPort, type SocketAddress, unixSocketPath } from '../address.js';
import type { StreamTapFactory } from '../capture/tap.js';
import { AbortError, fromSystemError, optionError } from '../errors.js';
import { deliver, traceStep } from '../internal.js';
import { resolveHost } from '../resolve.js';
import { nextSocketId, type SocketKind, type Tracer } from '../trace.js';
import { Conn, peerLabel } from './conn.js';
import { checkTcpOptions } from './tcp-options.js';
import {
  createStreamServer,
  requireStreamScheme,
  type ServerTransportOptions,
  type StreamAddress,
  type StreamServer,
} from './transports.js';
import { prepareUnixPath, unixListenError } from './unix-path.js';

/**
 * ListenOptions tune a listener. Every field is optional, but `tls` is required for a `tls://`
 * address; `tcp` (keepalive, Nagle: see TcpSocketOptions) applies to every connection a `tcp://`
 * or `tls://` listener accepts.
 */
export interface ListenOptions extends ServerTransportOptions {
  /** Aborting it closes the listener (open connections are left to their owners). */
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /**
   * The accept queue length passed to listen(2): connections the kernel completes before the
   * server accepts them. Default 511, as Node's; Linux caps it at net.core.somaxconn.
   */
  readonly backlog?: number | undefined;
  /** Keep `[::]` to IPv6 only (IPV6_V6ONLY) instead of dual-stack: IPv4 clients are then refused. */
  readonly ipv6Only?: boolean | undefined;
  /** A guard every accepted socket passes (limits, access control: see security/connection-guard.ts). */
  readonly guard?: AcceptGuard | undefined;
  /** Asked for a tap for each accepted connection, to see its bytes both ways (see Capture). */
  readonly tap?: StreamTapFactory | undefined;
}

/** MAX_BACKLOG is the largest accept queue listen(2) takes (an int; the kernel caps it at somaxconn). */
export const MAX_BACKLOG = 65_535;

/**
 * AcceptGuard decides on each accepted socket before it becomes a Conn. Without one, accepting
 * costs nothing extra: limits are opt-in.
 */
export interface AcceptGuard {
  /** watch is called once for each bound server, to observe its errors (EMFILE, TLS handshakes). */
  watch(server: Server): void;
  /** admit sees the raw socket (before any TLS handshake) and returns false after closing it to refuse it. */
  admit(socket: Socket): boolean;
  /** accepted sees the socket of each Conn once it is ready (after the TLS handshake). */
  accepted(socket: Socket): void;
}

/**
 * Listener accepts stream connections on one or more bound sockets (a name such as `localhost`
 * binds every address it resolves to). Iterate it, or call `accept`, to receive each Conn (each
 * WebSocketConn, for the Listener that listenWebSocket returns).
 */
export class Listener<C extends { close(): unknown } = Conn> implements AsyncIterable<C> {
  /** The bound addresses, with the real port when port 0 was asked. */
  readonly addresses: readonly SocketAddress[];
  readonly #servers: readonly Server[];
  readonly #pending: C[] = [];
  readonly #waiting: { resolve: (conn: C) => void; reject: (err: Error) => void }[] = [];
  #handler: ((conn: C) => void) | undefined;
  #closed = false;

  constructor(servers: readonly Server[], addresses: readonly SocketAddress[]) {
    this.#servers = servers;
    this.addresses = addresses;
  }

  /** address is the first bound address. */
  get address(): SocketAddress {
    return this.addresses[0] as SocketAddress;
  }

  /** The Node servers behind this listener, for options sockkit does not wrap (`maxConnections`). */
  get servers(): readonly Server[] {
    return this.#servers;
  }

  /** accept resolves with the next connection; it rejects with AbortError once the listener is closed. */
  accept(): Promise<C> {
    const conn = this.#pending.shift();
    if (conn) return Promise.resolve(conn);
    if (this.#closed) return Promise.reject(new AbortError('accept', formatAddress(this.address)));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /**
   * handle passes every connection, including any already waiting, to `handler` as it is
   * accepted: the callback form of the accept loop, for servers.
   */
  handle(handler: (conn: C) => void): void {
    this.#handler = handler;
    for (const conn of this.#pending.splice(0)) handler(conn);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<C> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (err) {
        if (err instanceof AbortError) return;
        throw err;
      }
    }
  }

  /** close stops accepting: the bound sockets close (a Unix socket file is removed). Open connections stay open. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0))
      waiter.reject(new AbortError('accept', formatAddress(this.address)));
    // server.close() shuts the listening socket at once; its callback would wait for every open
    // connection too, which is not what closing a listener means here.
    for (const server of this.#servers) server.close();
    // Connections accepted but never taken by anyone are closed: nobody will serve them.
    for (const conn of this.#pending.splice(0)) conn.close();
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** [deliver] hands a freshly accepted connection to the handler, a waiting accept, or the queue (library-internal). */
  [deliver](conn: C): void {
    // A connection that finished its handshake after close has nobody to take it.
    if (this.#closed && !this.#handler) {
      conn.close();
      return;
    }
    const waiter = this.#handler ? undefined : this.#waiting.shift();
    if (this.#handler) this.#handler(conn);
    else if (waiter) waiter.resolve(conn);
    else this.#pending.push(conn);
  }
}

/**
 * listen binds `address` and starts listening (for a `ws://` or `wss://` address, use
 * listenWebSocket). A name binds every address it resolves to, on one port. Rejects with a SockkitError such as `listen tcp://127.0.0.1:80: permission denied` or
 * `... address already in use`. A Unix socket file nobody accepts on is replaced; anything else at
 * the path is refused and left alone (see prepareUnixPath).
 */
export async function listen(address: SocketAddress, options: ListenOptions = {}): Promise<Listener> {
  requireStreamScheme('listen', address);
  const url = formatAddress(address);
  checkTcpOptions('listen', options.tcp, url);
  const backlog = options.backlog ?? 511;
  if (!(Number.isInteger(backlog) && backlog >= 1 && backlog <= MAX_BACKLOG))
    throw optionError(
      'listen',
      'backlog',
      `${backlog}: expected a whole number from 1 to ${MAX_BACKLOG}`,
      url,
    );
  const sockets: BoundSocket[] = [];
  try {
    if (address.scheme === 'unix') {
      if (!address.abstract) await prepareUnixPath(address);
      const made = createStreamServer(address, options);
      sockets.push({ ...made, local: address, kind: 'unix' });
      await bind(made.server, { path: unixSocketPath(address), backlog });
      traceListening(options.trace, 'unix', url, backlog);
    } else {
      // Every address of a name shares one port: the first bind picks it when port 0 was asked.
      let port = address.port;
      for (const host of await resolveHost(address.host)) {
        const made = createStreamServer(address, options);
        const kind: SocketKind = `${address.scheme}${host.family}`;
        sockets.push({ ...made, local: address, kind });
        await bind(made.server, { host: host.ip, port, backlog, ipv6Only: options.ipv6Only ?? false });
        port = (made.server.address() as AddressInfo).port;
        const local = { scheme: address.scheme, host: host.ip, port };
        (sockets[sockets.length - 1] as BoundSocket).local = local;
        traceListening(options.trace, kind, formatHostPort(host.ip, port), backlog);
      }
    }
  } catch (err) {
    for (const { server } of sockets) server.close();
    throw address.scheme === 'unix'
      ? await unixListenError(address, err)
      : fromSystemError('listen', url, err);
  }
  const listener = new Listener(
    sockets.map((s) => s.server),
    sockets.map((s) => s.local),
  );
  for (const bound of sockets) acceptInto(listener, bound, options);
  if (options.signal) {
    if (options.signal.aborted) void listener.close();
    else options.signal.addEventListener('abort', () => void listener.close(), { once: true });
  }
  return listener;
}

interface BoundSocket extends StreamServer {
  local: StreamAddress;
  readonly kind: SocketKind;
}

function bind(server: Server, opts: Parameters<Server['listen']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function traceListening(
  trace: Tracer | undefined,
  kind: SocketKind,
  where: string,
  backlog: number | undefined,
): void {
  if (!trace) return;
  const socketId = nextSocketId();
  trace({ step: 'created', socketId, kind });
  trace({ step: 'bound', socketId, kind, address: where });
  trace({ step: 'listening', socketId, kind, detail: `backlog ${backlog ?? 511}` });
}

function acceptInto(listener: Listener, bound: BoundSocket, options: ListenOptions): void {
  const { trace, guard, tap } = options;
  const { server, readyEvent, local, kind, describe } = bound;
  // A listening socket's own errors after bind (EMFILE on accept) must not crash the process.
  server.on('error', () => {});
  // The guard sees raw sockets; for TLS that is before the handshake, so refusing one costs no crypto.
  const gateRaw = guard !== undefined && readyEvent === 'connection';
  if (guard) {
    guard.watch(server);
    if (!gateRaw) server.on('connection', (raw: Socket) => consult(raw, trace, kind, () => guard.admit(raw)));
  }
  server.on(readyEvent, (socket: Socket) => {
    if (gateRaw && !consult(socket, trace, kind, () => guard.admit(socket))) return;
    const remote: SocketAddress =
      local.scheme === 'unix'
        ? { scheme: 'unix', path: '', abstract: false }
        : { scheme: local.scheme, host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const conn = new Conn(socket, {
      localAddress: local,
      remoteAddress: remote,
      kind,
      trace,
      tap,
      role: 'server',
    });
    if (trace) {
      conn[traceStep]('accepted', { address: peerLabel(remote) });
      if (describe) conn[traceStep]('note', { detail: describe(socket) });
    }
    if (guard && !consult(socket, trace, kind, () => acceptedBy(guard, socket))) return;
    listener[deliver](conn);
  });
}

/**
 * consult runs one of a guard's callbacks on one socket and returns its verdict. A guard that
 * throws closes that socket only, traced: the last line of defence, so the listener and every
 * other connection carry on.
 */
function consult(
  socket: Socket,
  trace: Tracer | undefined,
  kind: SocketKind,
  decide: () => boolean,
): boolean {
  try {
    return decide();
  } catch (err) {
    socket.destroy();
    const detail = `the guard failed on this connection: ${err instanceof Error ? err.message : String(err)}`;
    trace?.({ step: 'error', socketId: nextSocketId(), kind, detail });
    return false;
  }
}

function acceptedBy(guard: AcceptGuard, socket: Socket): true {
  guard.accepted(socket);
  return true;
}
