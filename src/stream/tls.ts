/**
 * TLS as a stream transport like tcp and unix: `connectTls` opens a client socket and
 * `createTlsServer` builds the server for a `tls://` address; `stream/transports.ts` picks them by
 * scheme. Clients verify the server's certificate and host name unless told not to; both sides
 * require TLS 1.2 or newer.
 */
import { isIP, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  connect,
  createServer,
  type PeerCertificate,
  type Server,
  type TLSSocket,
} from 'node:tls';
import { UsageError } from '../errors.js';
import type { TcpSettings } from './tcp-options.js';

/** MIN_TLS_VERSION is the oldest protocol sockkit speaks, as either side. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** DEFAULT_HANDSHAKE_TIMEOUT: a client that has not finished its handshake by then is dropped (ms). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 5000;

/** TlsServerOptions go in `ListenOptions.tls` for a `tls://` listener. */
export interface TlsServerOptions {
  /** The server's certificate chain, PEM. */
  readonly cert: string | Buffer;
  /** The certificate's private key, PEM. */
  readonly key: string | Buffer;
  /** CA certificates (PEM) that client certificates must chain to; setting it requires one (mutual TLS). */
  readonly clientCa?: string | Buffer | undefined;
  /** Protocols offered for ALPN, in order of preference (`h2`, `http/1.1`). */
  readonly alpn?: readonly string[] | undefined;
  /** A client that has not finished its handshake by then is dropped, in ms. Default 5000. */
  readonly handshakeTimeout?: number | undefined;
}

/**
 * TlsClientOptions go in `DialOptions.tls` for a `tls://` dial. Every field is optional: without
 * any, the server's certificate must chain to the system's CAs and carry the URL's host.
 */
export interface TlsClientOptions {
  /** CA certificates (PEM) to trust instead of the system's. */
  readonly ca?: string | Buffer | undefined;
  /** The name sent for SNI and checked against the certificate. Default: the URL's host. */
  readonly servername?: string | undefined;
  /** A client certificate and its key (PEM), for servers that ask for one. */
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
  /** Skip certificate and host-name verification. Dangerous: anyone in the path can read the traffic. */
  readonly insecure?: boolean | undefined;
  /**
   * Trust exactly the certificate with this SHA-256 fingerprint (`AB:CD:...`, colons optional),
   * whoever signed it and whatever names it carries: pinning, as for a `--self-signed` server.
   */
  readonly fingerprint?: string | undefined;
  /** Protocols offered for ALPN, in order of preference. */
  readonly alpn?: readonly string[] | undefined;
}

/**
 * TlsServer is a TLS server for one bound address: `secureConnection` hands out each socket once
 * its handshake is done (the raw socket arrives as `connection` before it), and `describe` words
 * a finished handshake for `--trace`.
 */
export interface TlsServer {
  readonly server: Server;
  readonly readyEvent: 'secureConnection';
  readonly describe: (socket: Socket) => string;
}

/**
 * createTlsServer builds the server for the `tls://` address `url`. Throws UsageError (carrying
 * `url`) when `options` lacks a certificate or its key. A failed or timed-out client handshake
 * closes that socket only.
 */
export function createTlsServer(
  url: string,
  options: TlsServerOptions | undefined,
  tcp: TcpSettings = { noDelay: true },
): TlsServer {
  if (!options?.cert || !options.key) {
    throw new UsageError(
      'listen',
      'a tls:// listener needs a certificate and its key (tls.cert, tls.key)',
      url,
    );
  }
  const server = createServer({
    cert: options.cert,
    key: options.key,
    minVersion: MIN_TLS_VERSION,
    handshakeTimeout: options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    // Not half-open during the handshake: a client that sends its FIN before finishing can never
    // finish (its Finished message would have to come after), so its EOF must end the socket and
    // release the descriptor at once, not at the handshake timeout. Half-close is allowed again
    // once the handshake is done (below), so an echo still answers a client's last bytes.
    allowHalfOpen: false,
    ...tcp,
    ...(options.alpn ? { ALPNProtocols: [...options.alpn] } : {}),
    ...(options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  // A failed or timed-out handshake must be closed here: Node 20 reports a handshake timeout as
  // 'tlsClientError' but leaves the socket (and its descriptor) open, so a client that stalls
  // would otherwise be held forever. A client's bad handshake is expected, never fatal.
  server.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  // Registered before `listen` adds its own listener, so the connection is half-open aware by the
  // time a service sees it. Node reads `allowHalfOpen` when the peer's FIN arrives, not before.
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.allowHalfOpen = true;
  });
  return {
    server,
    readyEvent: 'secureConnection',
    describe: (socket: Socket) => describeHandshake(socket as TLSSocket),
  };
}

/**
 * TlsClientSocket is a client socket on its way to being ready: `readyEvent` is emitted once the
 * handshake is done and the certificate is accepted (by its CA, or by its pinned fingerprint);
 * a refusal is an 'error' event whose code `fromSystemError` words.
 */
export interface TlsClientSocket {
  readonly socket: TLSSocket;
  readonly readyEvent: string;
  readonly describe: () => string;
}

/**
 * connectTls starts a TLS connection to `target` (one IP address `host` resolved to), checking
 * the certificate against `options.servername`, or else `host` itself. With `allowHalfOpen`, our
 * FIN (closeWrite) does not stop us reading the peer's reply. Given `over`, a connected socket (a
 * tunnel through proxies), the handshake runs on it instead of a new connection to `target`.
 */
export function connectTls(
  target: { readonly host: string; readonly port: number },
  host: string,
  options: TlsClientOptions | undefined,
  allowHalfOpen: boolean,
  tcp: TcpSettings = { noDelay: true },
  over?: Socket,
): TlsClientSocket {
  const tls = options ?? {};
  // SNI carries names only; for an IP literal, Node checks the certificate against `host`.
  const servername = tls.servername ?? (isIP(host) === 0 ? host.replace(/\.$/, '') : undefined);
  const connectOptions: ConnectionOptions = {
    // Over a tunnel (a proxy chain), the handshake runs on its socket, still checking `host`.
    ...(over
      ? { socket: over }
      : {
          host: target.host,
          port: target.port,
          ...(tcp.localAddress === undefined ? {} : { localAddress: tcp.localAddress }),
          ...(tcp.localPort === undefined ? {} : { localPort: tcp.localPort }),
        }),
    ...(servername ? { servername } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.alpn ? { ALPNProtocols: [...tls.alpn] } : {}),
    // A pinned certificate replaces CA and host-name checks: it is checked below, after the handshake.
    rejectUnauthorized: tls.insecure !== true && tls.fingerprint === undefined,
    minVersion: MIN_TLS_VERSION,
  };
  // allowHalfOpen is not in Node's types for tls.connect, but it is passed on to the socket.
  const socket = connect({ ...connectOptions, allowHalfOpen } as ConnectionOptions);
  // tls.connect passes the socket options on to net, except these: set on the socket itself.
  socket.setNoDelay(tcp.noDelay);
  if (tcp.keepAlive) socket.setKeepAlive(true, tcp.keepAliveInitialDelay);
  const describe = (): string => describeHandshake(socket);
  if (tls.fingerprint === undefined) return { socket, readyEvent: 'secureConnect', describe };
  const want = normalizeFingerprint(tls.fingerprint);
  socket.once('secureConnect', () => {
    const got = socket.getPeerCertificate().fingerprint256;
    if (got === want) socket.emit(PINNED);
    else {
      const mismatch = `the server's certificate has fingerprint ${got ?? '(none)'}, not ${want}`;
      socket.destroy(
        Object.assign(new Error(mismatch), { code: 'ERR_TLS_FINGERPRINT_MISMATCH', reason: mismatch }),
      );
    }
  });
  return { socket, readyEvent: PINNED, describe };
}

/** The event a pinned client socket emits once its peer's fingerprint matched. */
const PINNED = 'sockkit:pinned';

/**
 * normalizeFingerprint writes a SHA-256 fingerprint as Node and OpenSSL print it: 32 upper-case
 * hex pairs joined by colons. Throws RangeError for anything else.
 */
export function normalizeFingerprint(text: string): string {
  const hex = text
    .replace(/^sha256[:=]?/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new RangeError(`not a SHA-256 fingerprint: "${text}"`);
  return hex.match(/../g)?.join(':') ?? hex;
}

/**
 * describeHandshake summarizes a finished TLS handshake in one line: protocol version, cipher,
 * the peer certificate's subject, and the ALPN protocol agreed, as `--trace` prints it.
 */
export function describeHandshake(socket: TLSSocket): string {
  const cipher = socket.getCipher();
  const peer = socket.getPeerCertificate();
  const alpn = socket.alpnProtocol;
  const parts = [`TLS handshake done: ${socket.getProtocol() ?? 'unknown version'}`, cipher?.name ?? ''];
  parts.push(peer && Object.keys(peer).length > 0 ? `peer ${subjectOf(peer)}` : 'no peer certificate');
  if (socket.authorized === false && socket.authorizationError)
    parts.push(`unverified: ${String(socket.authorizationError)}`);
  parts.push(alpn ? `ALPN ${alpn}` : 'no ALPN');
  return parts.filter((p) => p !== '').join(', ');
}

/** subjectOf writes a certificate's subject as `CN=localhost, O=sockkit`. */
export function subjectOf(cert: PeerCertificate): string {
  const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
  if (!subject) return '(no subject)';
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(', ');
}
