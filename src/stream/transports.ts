/**
 * The stream transports, chosen by scheme in plain code: `openStreamSocket` starts a client socket
 * and `createStreamServer` builds the server for a `tcp://`, `unix:` or `tls://` address. Nothing
 * registers itself anywhere: what a scheme does is the case of its name in the two switches below,
 * so adding one (`ws://`) is a case in each, and its typed options one field in
 * ClientTransportOptions and ServerTransportOptions (docs/streams.md, "Adding a scheme").
 * `dial`, `listen` and the bench all come here.
 */
import { connect, createServer, type OnReadOpts, type Server, type Socket } from 'node:net';
import {
  formatAddress,
  type InetAddress,
  type SocketAddress,
  type UnixAddress,
  webSocketTransport,
} from '../address.js';
import { SchemeError } from '../errors.js';
import type { ProxyUrl } from '../proxy/proxy-url.js';
import type { WebSocketClientOptions, WebSocketServerOptions } from '../websocket/websocket-options.js';
import {
  type TcpClientOptions,
  type TcpServerOptions,
  tcpClientSettings,
  tcpSocketSettings,
} from './tcp-options.js';
import { connectTls, createTlsServer, type TlsClientOptions, type TlsServerOptions } from './tls.js';

/** STREAM_SCHEMES are the schemes of the byte-stream transports (`dial` and `listen` also take ws and wss: see src/websocket/). */
export const STREAM_SCHEMES = ['tcp', 'tls', 'unix'] as const;

/** StreamAddress is the address of a byte-stream transport: tcp, tls or unix. */
export type StreamAddress = InetAddress | UnixAddress;

/** StreamTarget is one concrete place to connect to: an IP address and port, or a socket path. */
export type StreamTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/**
 * ClientTransportOptions are the settings of the client transports that have any, one field per
 * scheme, each typed. DialOptions, BenchOptions and the bench's plan extend it, so a new scheme's
 * options are one field here. Each is ignored for an address of another scheme.
 */
export interface ClientTransportOptions {
  /** TLS settings for a `tls://` or `wss://` address: CAs, server name, client certificate, pinning, ALPN. */
  readonly tls?: TlsClientOptions | undefined;
  /**
   * Proxies to reach a `tcp://` or `tls://` address through, in order: the first is connected to,
   * each later one through the ones before it (see proxy/proxy-chain.ts). TLS is then end to
   * end: the final server's certificate is checked, not a proxy's.
   */
  readonly proxy?: readonly ProxyUrl[] | undefined;
  /** TCP socket options for a `tcp://` or `tls://` address (TLS runs over TCP): source, keepalive, Nagle. */
  readonly tcp?: TcpClientOptions | undefined;
  /** WebSocket settings for a `ws://` or `wss://` address: headers, subprotocols, Origin, pings. */
  readonly ws?: WebSocketClientOptions | undefined;
}

/**
 * clientTransportOptionsOf copies the transport fields out of a larger options object (a bench
 * plan), for passing them on without the rest.
 */
export function clientTransportOptionsOf(options: ClientTransportOptions): ClientTransportOptions {
  return { tls: options.tls, tcp: options.tcp, proxy: options.proxy, ws: options.ws };
}

/** ServerTransportOptions are the settings of the server transports that have any, one field per scheme (see ClientTransportOptions). */
export interface ServerTransportOptions {
  /** TLS settings, required for a `tls://` or `wss://` address: certificate and key, client CA, ALPN, handshake timeout. */
  readonly tls?: TlsServerOptions | undefined;
  /** TCP socket options every connection a `tcp://` or `tls://` listener accepts gets: keepalive, Nagle. */
  readonly tcp?: TcpServerOptions | undefined;
  /** WebSocket settings for a `ws://` or `wss://` address: Origin allow-list, message size, pings. */
  readonly ws?: WebSocketServerOptions | undefined;
}

/** SocketOptions tune one client socket, whatever its transport. */
export interface SocketOptions {
  /** Keep reading after our own FIN (closeWrite), to read the peer's reply. Default false. */
  readonly allowHalfOpen?: boolean | undefined;
  /**
   * tcp and unix: read into this one buffer instead of allocating per read (Node's `onread`), as
   * the bench does; the socket then emits no 'data'. Other transports ignore it and emit 'data'.
   */
  readonly onread?: OnReadOpts | undefined;
}

/** OpeningSocket is a client socket on its way to being ready for data. */
export interface OpeningSocket {
  readonly socket: Socket;
  /** The event the socket emits once it is ready (after the TLS handshake, for tls://). */
  readonly readyEvent: string;
  /** describe words the finished handshake for `--trace`, for transports that have one. */
  readonly describe?: (() => string) | undefined;
}

/**
 * openStreamSocket starts connecting to `target`, one place `address` resolved to, using the
 * options in `transport` of the address's scheme (`tcp` for tcp:// and tls://: Nagle off unless
 * `tcp.noDelay` is false).
 * Wait for `readyEvent` (or an 'error') before writing. Throws SchemeError for a scheme that is not
 * a stream transport.
 */
export function openStreamSocket(
  address: SocketAddress,
  target: StreamTarget,
  transport: ClientTransportOptions = {},
  options: SocketOptions = {},
): OpeningSocket {
  const allowHalfOpen = options.allowHalfOpen ?? false;
  switch (address.scheme) {
    case 'tcp':
    case 'unix': {
      const onread = options.onread ? { onread: options.onread } : {};
      // A Unix socket has no TCP options: Node ignores noDelay there, and a path has no port.
      const tcp = 'host' in target ? tcpClientSettings(transport.tcp) : { noDelay: true };
      return { socket: connect({ ...target, allowHalfOpen, ...tcp, ...onread }), readyEvent: 'connect' };
    }
    case 'tls':
      if (!('host' in target)) throw new TypeError('a tls:// target is a host and port, not a path');
      return connectTls(target, address.host, transport.tls, allowHalfOpen, tcpClientSettings(transport.tcp));
    case 'ws':
    case 'wss':
      // A WebSocket's socket is its transport's: tcp for ws://, tls for wss:// (src/websocket/).
      return openStreamSocket(webSocketTransport(address), target, transport, options);
    case 'udp':
      throw new SchemeError('connect', formatAddress(address), address.scheme, STREAM_SCHEMES);
  }
}

/** TunneledSocket is a client socket over a tunnel; without `readyEvent`, it is ready for data already. */
export interface TunneledSocket {
  readonly socket: Socket;
  readonly readyEvent?: string | undefined;
  readonly describe?: (() => string) | undefined;
}

/**
 * openOverTunnel starts the transport of `address` on `tunnel`, a socket already connected to it
 * through proxies: nothing more for tcp://, a TLS handshake checking the address's host for
 * tls://. Throws SchemeError for a scheme a tunnel cannot carry.
 */
export function openOverTunnel(
  address: SocketAddress,
  tunnel: Socket,
  transport: ClientTransportOptions = {},
  options: SocketOptions = {},
): TunneledSocket {
  switch (address.scheme) {
    case 'tcp':
      return { socket: tunnel };
    case 'tls':
      return connectTls(
        address,
        address.host,
        transport.tls,
        options.allowHalfOpen ?? false,
        tcpClientSettings(transport.tcp),
        tunnel,
      );
    case 'ws':
    case 'wss':
      // A WebSocket's socket is its transport's: tcp for ws://, tls for wss://.
      return openOverTunnel(webSocketTransport(address), tunnel, transport, options);
    case 'unix':
    case 'udp':
      throw new SchemeError('connect', formatAddress(address), address.scheme, ['tcp', 'tls']);
  }
}

/** StreamServer is the Node server behind one bound address of a stream listener. */
export interface StreamServer {
  readonly server: Server;
  /**
   * The event each connection ready for data arrives with: `connection`, or `secureConnection`
   * once a TLS handshake is done (the raw socket still arrives as `connection` before it).
   */
  readonly readyEvent: string;
  /** describe words a ready socket's handshake for `--trace`, for transports that have one. */
  readonly describe?: ((socket: Socket) => string) | undefined;
}

/**
 * createStreamServer builds the server for `address`, not yet bound. Throws SchemeError for a
 * scheme that is not a stream transport, and UsageError for a `tls://` one without a certificate.
 */
export function createStreamServer(
  address: SocketAddress,
  transport: ServerTransportOptions = {},
): StreamServer {
  switch (address.scheme) {
    case 'tcp':
    case 'unix': {
      // allowHalfOpen: a peer's FIN ends only its direction, so an echo can finish before closing.
      const tcp = address.scheme === 'tcp' ? tcpSocketSettings(transport.tcp) : { noDelay: true };
      return { server: createServer({ allowHalfOpen: true, ...tcp }), readyEvent: 'connection' };
    }
    case 'tls':
      return createTlsServer(formatAddress(address), transport.tls, tcpSocketSettings(transport.tcp));
    case 'ws':
    case 'wss':
      return createStreamServer(webSocketTransport(address), transport);
    case 'udp':
      throw new SchemeError('listen', formatAddress(address), address.scheme, STREAM_SCHEMES);
  }
}

/**
 * requireStreamScheme throws SchemeError for `op` unless `address` names a stream transport: the
 * check `dial` and `listen` make before resolving a name.
 */
export function requireStreamScheme(op: string, address: SocketAddress): asserts address is StreamAddress {
  if (!(STREAM_SCHEMES as readonly string[]).includes(address.scheme)) {
    // A WebSocket carries messages, not a byte stream: it has its own entry points.
    const webSocket =
      address.scheme === 'ws' || address.scheme === 'wss'
        ? `${address.scheme}:// is a WebSocket, which carries messages: use ${op === 'listen' ? 'listenWebSocket' : 'dialWebSocket'}`
        : undefined;
    throw new SchemeError(op, formatAddress(address), address.scheme, STREAM_SCHEMES, webSocket);
  }
}
