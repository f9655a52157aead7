/**
 * dial connects to a stream address (TCP or Unix), in the spirit of Go's `net.Dial`: create a
 * socket, connect it, and hand back a Conn. A name is resolved to every address it has, and each is
 * tried in turn until one answers.
 */
import { connect, type Socket } from 'node:net';
import { formatAddress, formatHostPort, type SocketAddress, unixSocketPath } from '../address.js';
import { AbortError, fromSystemError, SchemeError, type SockkitError, TimeoutError } from '../errors.js';
import { resolveHost } from '../resolve.js';
import { nextSocketId, type Tracer } from '../trace.js';
import { Conn } from './conn.js';

/** DialOptions tune a dial. Every field is optional. */
export interface DialOptions {
  /** Aborting it cancels the dial in progress. */
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** A bound on the whole dial, over every address tried, in milliseconds. */
  readonly timeout?: number | undefined;
  /** Try only IPv4 (4) or only IPv6 (6) addresses of a name. */
  readonly family?: 4 | 6 | undefined;
  /** Options a transport other than tcp and unix understands (TLS: `ca`, `servername`, ...). */
  readonly transport?: Readonly<Record<string, unknown>> | undefined;
}

/** Target is one concrete place to connect to: an IP and port, or a socket path. */
export type Target = { readonly host: string; readonly port: number } | { readonly path: string };

/**
 * Connector opens a socket to one target; `connectEvent` is emitted when it is ready for data.
 * `handshake`, when given, describes the ready socket for `--trace` (TLS version, cipher, ...).
 */
export type Connector = (
  target: Target,
  address: SocketAddress,
  options: DialOptions,
) => {
  socket: Socket;
  connectEvent: string;
  handshake?: (() => string) | undefined;
};

const plainConnector: Connector = (target) => ({
  // allowHalfOpen: our FIN (closeWrite) must not stop us reading the peer's reply.
  socket: connect({ ...target, allowHalfOpen: true, noDelay: true }),
  connectEvent: 'connect',
});

const connectors = new Map<string, Connector>([
  ['tcp', plainConnector],
  ['unix', plainConnector],
]);

/** registerConnector lets a transport module (such as TLS) add its scheme to `dial`. */
export function registerConnector(scheme: string, connector: Connector): void {
  connectors.set(scheme, connector);
}

/**
 * dial connects to `address` and resolves with the Conn. Every address a name resolves to is
 * tried in turn; the first that accepts wins. Rejects with a SockkitError naming the address and
 * cause (`connect tcp://127.0.0.1:9: connection refused`), a TimeoutError past `timeout`, or an
 * AbortError when `signal` fires.
 */
export async function dial(address: SocketAddress, options: DialOptions = {}): Promise<Conn> {
  const url = formatAddress(address);
  const connector = connectors.get(address.scheme);
  if (!connector) throw new SchemeError('connect', url, address.scheme, ['tcp', 'tls', 'unix']);
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
  let targets: { target: Target; kind: string; label: string }[];
  if (address.scheme === 'unix') {
    targets = [{ target: { path: unixSocketPath(address) }, kind: 'unix', label: url }];
  } else {
    const hosts = await withDeadline(
      resolveHost(address.host, options.family),
      deadline,
      options.signal,
      url,
    ).catch((err: unknown) => {
      throw fromSystemError('connect', url, err);
    });
    const kind = address.scheme === 'tls' ? 'tls' : 'tcp';
    targets = hosts.map((h) => ({
      target: { host: h.ip, port: address.port },
      kind: `${kind}${h.family}`,
      label: formatHostPort(h.ip, address.port),
    }));
  }
  let firstError: SockkitError | undefined;
  for (const { target, kind, label } of targets) {
    const socketId = nextSocketId();
    options.trace?.({ step: 'created', socketId, kind });
    options.trace?.({ step: 'connecting', socketId, kind, address: label });
    const { socket, connectEvent, handshake } = connector(target, address, options);
    try {
      await withDeadline(connected(socket, connectEvent), deadline, options.signal, url);
    } catch (err) {
      socket.destroy();
      const failure = fromSystemError('connect', url, err);
      if (failure instanceof TimeoutError || failure instanceof AbortError) throw failure;
      options.trace?.({ step: 'error', socketId, kind, detail: failure.reason });
      firstError ??= failure;
      continue;
    }
    const localAddress: SocketAddress =
      address.scheme === 'unix'
        ? { scheme: 'unix', path: '', abstract: false }
        : { scheme: address.scheme, host: socket.localAddress ?? '', port: socket.localPort ?? 0 };
    const remoteAddress: SocketAddress =
      address.scheme === 'unix' || 'path' in target
        ? address
        : { scheme: address.scheme, host: target.host, port: target.port };
    const conn = new Conn(socket, { localAddress, remoteAddress, kind, trace: options.trace, socketId });
    const from =
      localAddress.scheme === 'unix' ? undefined : formatHostPort(localAddress.host, localAddress.port);
    conn.trace('connected', { address: label, ...(from ? { detail: from } : {}) });
    if (handshake && options.trace) conn.trace('note', { detail: handshake() });
    return conn;
  }
  throw firstError ?? fromSystemError('connect', url, new Error('no address to try'));
}

function connected(socket: Socket, connectEvent: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once(connectEvent, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/**
 * withDeadline settles like `work`, unless the deadline passes (TimeoutError) or the signal
 * aborts (AbortError) first.
 */
export function withDeadline<T>(
  work: Promise<T>,
  deadline: number | undefined,
  signal: AbortSignal | undefined,
  url: string,
  op = 'connect',
): Promise<T> {
  if (deadline === undefined && !signal) return work;
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(op, url));
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(() => reject(new TimeoutError(op, url)), Math.max(0, deadline - Date.now()));
    const onAbort = (): void => reject(new AbortError(op, url));
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  });
}
