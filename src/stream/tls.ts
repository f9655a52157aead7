/**
 * TLS as a stream transport like tcp and unix: importing this module teaches `listen` and `dial`
 * the `tls://` scheme. Clients verify the server's certificate and host name unless told not to;
 * both sides require TLS 1.2 or newer.
 */
import { isIP, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  connect,
  createServer,
  type PeerCertificate,
  type TLSSocket,
} from 'node:tls';
import { formatAddress, type InetAddress } from '../address.js';
import { UsageError } from '../errors.js';
import { type Connector, registerConnector } from './dial.js';
import { registerServerFactory, type ServerFactory } from './listen.js';

/** MIN_TLS_VERSION is the oldest protocol sockkit speaks, as either side. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** DEFAULT_HANDSHAKE_TIMEOUT: a client that has not finished its handshake by then is dropped (ms). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 5000;

/** TlsServerOptions go in `ListenOptions.transport` for a `tls://` listener (a type, not an interface, so it fits that record). */
export type TlsServerOptions = {
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
};

/** TlsClientOptions go in `DialOptions.transport` for a `tls://` dial. */
export type TlsClientOptions = {
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
};

const serverFactory: ServerFactory = (address, options) => {
  const tls = (options.transport ?? {}) as Partial<TlsServerOptions>;
  if (!tls.cert || !tls.key) {
    throw new UsageError(
      `listen ${formatAddress(address)}`,
      'a tls:// listener needs a certificate and its key (--cert FILE --key FILE, or --self-signed)',
    );
  }
  const server = createServer({
    cert: tls.cert,
    key: tls.key,
    minVersion: MIN_TLS_VERSION,
    handshakeTimeout: tls.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT,
    // Not half-open during the handshake: a client that sends its FIN before finishing can never
    // finish (its Finished message would have to come after), so its EOF must end the socket and
    // release the descriptor at once, not at the handshake timeout. Half-close is allowed again
    // once the handshake is done (below), so an echo still answers a client's last bytes.
    allowHalfOpen: false,
    noDelay: true,
    ...(tls.alpn ? { ALPNProtocols: [...tls.alpn] } : {}),
    ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
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
    connectionEvent: 'secureConnection',
    handshake: (socket: Socket) => describeHandshake(socket as TLSSocket),
  };
};

const connector: Connector = (target, address, options) => {
  const tls = (options.transport ?? {}) as TlsClientOptions;
  const host = (address as InetAddress).host;
  // SNI carries names only; for an IP literal, Node checks the certificate against `host`.
  const servername = tls.servername ?? (isIP(host) === 0 ? host.replace(/\.$/, '') : undefined);
  const connectOptions: ConnectionOptions = {
    ...(target as { host: string; port: number }),
    ...(servername ? { servername } : {}),
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.alpn ? { ALPNProtocols: [...tls.alpn] } : {}),
    // A pinned certificate replaces CA and host-name checks: it is checked below, after the handshake.
    rejectUnauthorized: tls.insecure !== true && tls.fingerprint === undefined,
    minVersion: MIN_TLS_VERSION,
  };
  // allowHalfOpen: our FIN (closeWrite) must not stop us reading the reply (not in Node's types).
  const socket = connect({ ...connectOptions, allowHalfOpen: true } as ConnectionOptions);
  socket.setNoDelay(true);
  const handshake = (): string => describeHandshake(socket);
  if (tls.fingerprint === undefined) return { socket, connectEvent: 'secureConnect', handshake };
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
  return { socket, connectEvent: PINNED, handshake };
};

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

registerServerFactory('tls', serverFactory);
registerConnector('tls', connector);

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
