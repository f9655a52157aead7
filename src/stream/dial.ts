/**
 * dial connects to a stream address (TCP, Unix or TLS), in the spirit of Go's `net.Dial`: create a
 * socket, connect it, and hand back a Conn. A name is resolved to every address it has, and each is
 * tried in turn until one answers. The transport is the address's scheme (see transports.ts).
 */
import type { Socket } from 'node:net';
import {
  formatAddress,
  formatHostPort,
  type InetAddress,
  type SocketAddress,
  unixSocketPath,
} from '../address.js';
import type { StreamTapFactory } from '../capture/tap.js';
import { AbortError, fromSystemError, type SockkitError, TimeoutError } from '../errors.js';
import { traceStep } from '../internal.js';
import { familyToTry } from '../local-end.js';
import { openTunnel } from '../proxy/proxy-chain.js';
import { formatProxyUrl } from '../proxy/proxy-url.js';
import { resolveHost } from '../resolve.js';
import { nextSocketId, type SocketKind, type Tracer } from '../trace.js';
import { Conn } from './conn.js';
import { checkTcpOptions } from './tcp-options.js';
import {
  type ClientTransportOptions,
  type OpeningSocket,
  openOverTunnel,
  openStreamSocket,
  requireStreamScheme,
  type SocketOptions,
  type StreamTarget,
} from './transports.js';

/**
 * DialOptions tune a dial. Every field is optional; `tls` is for a `tls://` (or `wss://`) address,
 * `tcp` (local address and port, keepalive, Nagle) for `tcp://` and `tls://`, `proxy` a chain of
 * proxies to reach it through (`--proxy`), `ws` for dialWebSocket.
 */
export interface DialOptions extends ClientTransportOptions {
  /** Aborting it cancels the dial in progress. */
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** A bound on the whole dial, over every address tried, in milliseconds. */
  readonly timeout?: number | undefined;
  /**
   * Try only IPv4 (4) or only IPv6 (6) addresses of a name. Default: both, or the family of
   * `tcp.localAddress` when one is set (a socket bound to an IPv4 address cannot reach an IPv6 one).
   */
  readonly family?: 4 | 6 | undefined;
  /** Asked for a tap that sees the connection's bytes both ways (see Capture); none by default. */
  readonly tap?: StreamTapFactory | undefined;
}

/** DialedSocket is a raw socket `dialSocket` connected, and where it connected. */
export interface DialedSocket {
  readonly socket: Socket;
  /** The place that answered: connect more sockets here to skip resolving and the dead addresses. */
  readonly target: StreamTarget;
  /** The socket kind for trace lines (`tcp4`, `tls6`, `unix`) and the id its lines carry. */
  readonly kind: SocketKind;
  readonly socketId: number;
  /** The target as trace lines write it (`127.0.0.1:7`, or the URL for a Unix path). */
  readonly label: string;
  readonly describe?: (() => string) | undefined;
}

/**
 * dial connects to `address` and resolves with the Conn. Every address a name resolves to is
 * tried in turn; the first that accepts wins. Rejects with SchemeError for an address that is not
 * tcp, tls or unix (a `ws://` one names dialWebSocket), and UsageError for `tcp` options that
 * cannot work (see checkTcpOptions); otherwise with a SockkitError naming the address and cause
 * (`connect tcp://127.0.0.1:9: connection refused`; `address not available on this host` for a
 * `tcp.localAddress` that is not this host's; a TlsError for a certificate refused), a
 * TimeoutError past `timeout`, or an AbortError when `signal` fires.
 */
export async function dial(address: SocketAddress, options: DialOptions = {}): Promise<Conn> {
  requireStreamScheme('connect', address);
  const dialed = await dialSocket(address, options, { allowHalfOpen: true });
  const { socket, target, kind, socketId, label, describe } = dialed;
  const localAddress: SocketAddress =
    address.scheme === 'unix'
      ? { scheme: 'unix', path: '', abstract: false }
      : { scheme: address.scheme, host: socket.localAddress ?? '', port: socket.localPort ?? 0 };
  const remoteAddress: SocketAddress =
    address.scheme === 'unix' || 'path' in target
      ? address
      : { scheme: address.scheme, host: target.host, port: target.port };
  const conn = new Conn(socket, {
    localAddress,
    remoteAddress,
    kind,
    trace: options.trace,
    socketId,
    tap: options.tap,
  });
  const from =
    localAddress.scheme === 'unix' ? undefined : formatHostPort(localAddress.host, localAddress.port);
  conn[traceStep]('connected', { address: label, ...(from ? { detail: from } : {}) });
  if (describe && options.trace) conn[traceStep]('note', { detail: describe() });
  return conn;
}

/**
 * dialSocket does dial's work and resolves with the raw socket, ready for data, for callers that
 * drive sockets themselves (the bench). `socket` tunes each socket tried. It rejects as `dial` does.
 */
export async function dialSocket(
  address: SocketAddress,
  options: DialOptions,
  socket: SocketOptions = {},
): Promise<DialedSocket> {
  const deadline = options.timeout === undefined ? undefined : Date.now() + options.timeout;
  if (options.proxy && options.proxy.length > 0) return dialViaProxies(address, options, deadline, socket);
  const targets = await resolveDialTargets(address, options, deadline);
  return dialTargets(address, targets, options, deadline, socket);
}

/**
 * dialViaProxies reaches `address` through `options.proxy` (see proxy/proxy-chain.ts): the first
 * proxy is dialed as any tcp:// address is, the destination's name is left to the proxies, and a
 * tls:// handshake runs end to end over the tunnel.
 */
async function dialViaProxies(
  address: SocketAddress,
  options: DialOptions,
  deadline: number | undefined,
  socket: SocketOptions,
): Promise<DialedSocket> {
  requireStreamScheme('connect', address);
  const proxies = options.proxy ?? [];
  const hopOptions: DialOptions = { ...options, proxy: undefined, tls: undefined };
  const firstHop = async (hop: InetAddress): Promise<DialedSocket> => {
    const targets = await resolveDialTargets(hop, hopOptions, deadline);
    // A handshake reads 'data': the first hop never reads into a caller's buffer (`onread`).
    return dialTargets(hop, targets, hopOptions, deadline, { allowHalfOpen: socket.allowHalfOpen });
  };
  const tunnel = await openTunnel(address, proxies, firstHop, {
    deadline,
    signal: options.signal,
    trace: options.trace,
  });
  const url = `${formatAddress(address)} via ${proxies.map(formatProxyUrl).join(', ')}`;
  const opening = openOverTunnel(address, tunnel.socket, options, socket);
  if (opening.readyEvent) {
    await socketReady(
      { socket: opening.socket, readyEvent: opening.readyEvent },
      url,
      deadline,
      options.signal,
    );
  }
  const family = tunnel.kind.endsWith('6') ? 6 : 4;
  return {
    socket: opening.socket,
    target: { host: (address as InetAddress).host, port: (address as InetAddress).port },
    kind: address.scheme === 'tls' ? `tls${family}` : tunnel.kind,
    socketId: tunnel.socketId,
    label: formatAddress(address),
    describe: opening.describe,
  };
}

/** DialTarget is one place a dial tries: an IP address and port (or a path), and how trace lines name it. */
export interface DialTarget {
  readonly target: StreamTarget;
  /** The socket kind for trace lines: `tcp4`, `tls6`, `unix`. */
  readonly kind: SocketKind;
  readonly label: string;
}

/**
 * resolveDialTargets returns every place `dial` tries for `address`, in order: each address a
 * name resolves to (of `options.family` only, when set), or the Unix path. Rejects with
 * SchemeError for an address that is not tcp, tls or unix, and as dial does when the name does
 * not resolve before `deadline` (a `Date.now()` time) or `options.signal` aborts.
 */
export async function resolveDialTargets(
  address: SocketAddress,
  options: DialOptions,
  deadline: number | undefined,
): Promise<DialTarget[]> {
  requireStreamScheme('connect', address);
  const url = formatAddress(address);
  if (address.scheme === 'unix')
    return [{ target: { path: unixSocketPath(address) }, kind: 'unix', label: url }];
  checkTcpOptions('connect', options.tcp, url);
  const hosts = await withDeadline(
    resolveHost(address.host, familyToTry(options.family, options.tcp)),
    deadline,
    options.signal,
    url,
  ).catch((err: unknown) => {
    throw fromSystemError('connect', url, err);
  });
  return hosts.map((h) => ({
    target: { host: h.ip, port: address.port },
    kind: `${address.scheme}${h.family}`,
    label: formatHostPort(h.ip, address.port),
  }));
}

/**
 * dialTargets connects to each of `targets` in turn, as dial does, and resolves with the first
 * socket ready for data. It rejects with the first target's failure when none answers, or at once
 * with a TimeoutError past `deadline` or an AbortError when `options.signal` fires.
 */
export async function dialTargets(
  address: SocketAddress,
  targets: readonly DialTarget[],
  options: DialOptions,
  deadline: number | undefined,
  socket: SocketOptions = {},
): Promise<DialedSocket> {
  const url = formatAddress(address);
  let firstError: SockkitError | undefined;
  for (const { target, kind, label } of targets) {
    const socketId = nextSocketId();
    options.trace?.({ step: 'created', socketId, kind });
    options.trace?.({ step: 'connecting', socketId, kind, address: label });
    const opening = openStreamSocket(address, target, options, socket);
    try {
      await socketReady(opening, url, deadline, options.signal);
    } catch (err) {
      const failure = err as SockkitError;
      if (failure instanceof TimeoutError || failure instanceof AbortError) throw failure;
      options.trace?.({ step: 'error', socketId, kind, detail: failure.reason });
      firstError ??= failure;
      continue;
    }
    return { socket: opening.socket, target, kind, socketId, label, describe: opening.describe };
  }
  throw firstError ?? fromSystemError('connect', url, new Error('no address to try'));
}

/**
 * socketReady resolves once `opening.socket` is ready for data. It rejects, destroying the
 * socket, with the SockkitError for `connect URL` (one sentence for a TLS failure: see
 * `fromSystemError`), a TimeoutError once `deadline` (a `Date.now()` time) passes, or an
 * AbortError when `signal` fires. Only its own listeners come off the socket: a caller's 'error'
 * listener stays, so a reset after connecting is never an unhandled 'error'.
 */
export function socketReady(
  opening: OpeningSocket,
  url: string,
  deadline: number | undefined,
  signal?: AbortSignal | undefined,
): Promise<void> {
  const { socket, readyEvent } = opening;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (err?: SockkitError): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off(readyEvent, onReady);
      signal?.removeEventListener('abort', onAbort);
      if (!err) {
        resolve();
        return;
      }
      // A connect still in flight (a Unix path's, above all) may report its failure after the
      // destroy: that socket is given up, and its late 'error' must not reach the process.
      socket.on('error', () => {});
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => settle(fromSystemError('connect', url, err));
    const onReady = (): void => settle();
    const onAbort = (): void => settle(new AbortError('connect', url));
    if (signal?.aborted) return onAbort();
    if (deadline !== undefined) {
      timer = setTimeout(() => settle(new TimeoutError('connect', url)), Math.max(0, deadline - Date.now()));
    }
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
    signal?.addEventListener('abort', onAbort, { once: true });
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
