/**
 * The client side of a proxy chain (`--proxy`, repeatable): connect to the first proxy, ask it for
 * a tunnel to the second, through that for the third, and so on to the destination. SOCKS5 and
 * SOCKS4a are spoken by the `socks` package; HTTP CONNECT by http-connect.ts. Names are left to
 * the proxies to resolve: the destination's name is never looked up here.
 */
import type { Socket } from 'node:net';
import type { SocksProxy } from 'socks';
import { formatAddress, type InetAddress, type SocketAddress } from '../address.js';
import {
  AbortError,
  ConnectionResetError,
  fromSystemError,
  ProtocolError,
  ProxyRefusedError,
  rewrap,
  type SockkitError,
  TimeoutError,
  UsageError,
} from '../errors.js';
import type { SocketKind, Tracer } from '../trace.js';
import { httpConnect } from './http-connect.js';
import { leaveUnread } from './leave-unread.js';
import { formatProxyUrl, type ProxyUrl } from './proxy-url.js';

/** Tunnel is a socket connected through every proxy of a chain, ready to carry the destination's bytes. */
export interface Tunnel {
  readonly socket: Socket;
  /** The first hop's socket kind (`tcp4`) and id, for trace lines. */
  readonly kind: SocketKind;
  readonly socketId: number;
}

/** FirstHop connects a plain TCP socket to the first proxy (dial's own work, with its errors and trace). */
export type FirstHop = (
  address: InetAddress,
) => Promise<{ socket: Socket; kind: SocketKind; socketId: number }>;

/** TunnelOptions bound the chain's work: a deadline (a `Date.now()` time) and a tracer. */
export interface TunnelOptions {
  readonly deadline?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
}

/** viaUrl names a failure at `hop` on the way to `address`: `tcp://example.test:80 via socks5://127.0.0.1:1080`. */
export function viaUrl(address: SocketAddress, hop: ProxyUrl): string {
  return `${formatAddress(address)} via ${formatProxyUrl(hop)}`;
}

/**
 * openTunnel connects through `proxies`, in order, to `address` (tcp:// or tls://: the TLS
 * handshake, if any, is the caller's, over the tunnel). It rejects with an error whose url names
 * the hop that failed: ProxyRefusedError when a proxy refuses (`proxy refused: connection not
 * allowed by ruleset`), a ConnectionRefusedError when the first cannot be reached, TimeoutError
 * past the deadline, AbortError on the signal, ProtocolError for a proxy that does not speak its
 * protocol. UsageError for a unix: address or an empty chain.
 */
export async function openTunnel(
  address: SocketAddress,
  proxies: readonly ProxyUrl[],
  firstHop: FirstHop,
  options: TunnelOptions = {},
): Promise<Tunnel> {
  const first = proxies[0];
  if (!first) throw new UsageError('connect', 'proxy: an empty chain', formatAddress(address), 'proxy');
  if (address.scheme === 'unix' || address.scheme === 'udp') {
    throw new UsageError(
      'connect',
      `proxy: a proxy reaches tcp:// and tls:// addresses, not ${address.scheme}:`,
      formatAddress(address),
      'proxy',
    );
  }
  let connected: Awaited<ReturnType<FirstHop>>;
  try {
    connected = await firstHop({ scheme: 'tcp', host: first.host, port: first.port });
  } catch (err) {
    throw rewrap(err, 'connect', viaUrl(address, first));
  }
  const { socket, kind, socketId } = connected;
  const note = (detail: string): void => options.trace?.({ step: 'note', socketId, kind, detail });
  // Between handshakes (loading the SOCKS client, above all) nobody else listens: a reset there
  // must fail this dial, not reach the process as an unhandled 'error'.
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  socket.on('error', onError);
  try {
    await throughEveryHop(socket, address, proxies, options, note, () => failure);
  } finally {
    socket.off('error', onError);
  }
  return { socket, kind, socketId };
}

/** throughEveryHop runs each proxy's handshake in turn on `socket`, asking each for the next hop. */
async function throughEveryHop(
  socket: Socket,
  address: SocketAddress & { readonly host: string; readonly port: number },
  proxies: readonly ProxyUrl[],
  options: TunnelOptions,
  note: (detail: string) => void,
  failure: () => Error | undefined,
): Promise<void> {
  for (const [i, hop] of proxies.entries()) {
    const next = proxies[i + 1];
    const destination = next ?? address;
    const url = viaUrl(address, hop);
    const what = `${destination.host.includes(':') ? `[${destination.host}]` : destination.host}:${destination.port}`;
    note(
      `proxy ${formatProxyUrl(hop)}: ${hop.protocol === 'http' ? 'CONNECT' : `${hop.protocol} connect`} ${what}`,
    );
    try {
      await boundedHop(socket, hop, destination, url, options, failure);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    note(`proxy ${formatProxyUrl(hop)}: tunnel to ${what} open`);
  }
  // The last handshake may have been answered just before a reset: that tunnel is no use.
  if (socket.destroyed) throw lostDuringHandshake(failure(), viaUrl(address, proxies.at(-1) as ProxyUrl));
}

/** lostDuringHandshake is the error for a proxy connection that closed in the middle of a handshake. */
function lostDuringHandshake(err: Error | undefined, url: string): SockkitError {
  return err
    ? rewrap(err, 'connect', url)
    : new ConnectionResetError('connect', url, 'the proxy closed the connection during its handshake');
}

/** boundedHop runs one hop's handshake, cut short by the deadline or the signal. */
function boundedHop(
  socket: Socket,
  hop: ProxyUrl,
  destination: { readonly host: string; readonly port: number },
  url: string,
  options: TunnelOptions,
  failure: () => Error | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const left = options.deadline === undefined ? undefined : options.deadline - Date.now();
    const timer =
      left === undefined
        ? undefined
        : setTimeout(() => stop(new TimeoutError('connect', url)), Math.max(0, left));
    const onAbort = (): void => stop(new AbortError('connect', url));
    const stop = (err: SockkitError): void => {
      socket.destroy();
      settle(err);
    };
    let settled = false;
    const settle = (err?: SockkitError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    handshake(socket, hop, destination, url, failure).then(
      () => settle(),
      (err: unknown) => settle(rewrap(err, 'connect', url)),
    );
  });
}

async function handshake(
  socket: Socket,
  hop: ProxyUrl,
  destination: { readonly host: string; readonly port: number },
  url: string,
  failure: () => Error | undefined,
): Promise<void> {
  // A socket that closed before its handshake began would never report it: fail now.
  if (socket.destroyed) throw lostDuringHandshake(failure(), url);
  if (hop.protocol === 'http') return httpConnect(socket, hop, destination, url);
  // Loaded on first use: every command imports the library, few of them speak SOCKS.
  const { SocksClient } = await import('socks');
  if (socket.destroyed) throw lostDuringHandshake(failure(), url);
  const proxy: SocksProxy = {
    host: hop.host,
    port: hop.port,
    type: hop.protocol === 'socks5' ? 5 : 4,
    ...(hop.username === undefined ? {} : { userId: hop.username, password: hop.password ?? '' }),
  };
  return SocksClient.createConnection({
    proxy,
    destination: { host: destination.host, port: destination.port },
    command: 'connect',
    existing_socket: socket,
  }).then(
    () => heldAfterSocks(socket),
    (err: unknown) => {
      throw socksError(err, url);
    },
  );
}

/**
 * heldAfterSocks keeps the first bytes of the tunnel for whoever reads it next. Once its tunnel is
 * open, the `socks` package, on the next turn of the event loop, re-emits as 'data' any byte that
 * came with the proxy's answer and sets the socket flowing: with nobody listening yet, those
 * bytes (a server's banner) would be lost. They are caught here and put back, and the socket is
 * left paused as a fresh one is, so the next 'data' listener starts the flow.
 */
function heldAfterSocks(socket: Socket): Promise<void> {
  const held: Buffer[] = [];
  const hold = (chunk: Buffer): void => {
    held.push(chunk);
  };
  socket.on('data', hold);
  // Queued after the package's own setImmediate, so it runs right after it, with no I/O between.
  return new Promise((resolve) =>
    setImmediate(() => {
      socket.off('data', hold);
      leaveUnread(socket);
      if (held.length > 0) socket.unshift(Buffer.concat(held));
      resolve();
    }),
  );
}

/** The words of RFC 1928 §6 for each reply the `socks` package names. */
const socks5Replies: Record<string, string> = {
  Failure: 'general SOCKS server failure',
  NotAllowed: 'connection not allowed by ruleset',
  NetworkUnreachable: 'network unreachable',
  HostUnreachable: 'host unreachable',
  ConnectionRefused: 'connection refused',
  TTLExpired: 'TTL expired',
  CommandNotSupported: 'command not supported',
  AddressNotSupported: 'address type not supported',
};

/** socksError words a `socks` package failure as sockkit's error for `op url`; its own text never reaches the user. */
export function socksError(err: unknown, url: string, op = 'connect'): SockkitError {
  const message = err instanceof Error ? err.message : String(err);
  const rejected = /rejected connection - \(?(\w+)\)?/.exec(message);
  if (rejected) {
    const name = rejected[1] as string;
    const words =
      socks5Replies[name] ?? (name === 'RejectedIdent' ? 'ident check failed' : 'request rejected or failed');
    return new ProxyRefusedError(op, url, `proxy refused: ${words}`, { cause: err });
  }
  if (message.includes('Authentication failed'))
    return new ProxyRefusedError(op, url, 'proxy refused: authentication failed', { cause: err });
  if (message.includes('no accepted authentication type'))
    return new ProxyRefusedError(
      op,
      url,
      'proxy refused: no authentication method in common (does it want user:pass@ in the proxy URL?)',
      { cause: err },
    );
  if (message.includes('Socket closed'))
    return new ConnectionResetError(op, url, 'the proxy closed the connection during its handshake', {
      cause: err,
    });
  if (message.includes('timed out')) return new TimeoutError(op, url, 'timed out', { cause: err });
  // The package passes a socket's failure on as its text (`write ECONNRESET`): word it by its code.
  const errno = /\b(E[A-Z]{3,})\b/.exec(message)?.[1];
  if (errno) return fromSystemError(op, url, Object.assign(new Error(message), { code: errno }));
  if (message.startsWith('Received invalid'))
    return new ProtocolError(op, url, 'the proxy does not speak this SOCKS version', { cause: err });
  return rewrap(err, op, url);
}
