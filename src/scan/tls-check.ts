/**
 * tlsCheck: does a TLS handshake succeed on an open port, and which certificate answers. It
 * looks, it does not trust: the handshake is completed whatever the certificate, and whether the
 * certificate would pass a client's verification is reported beside its names.
 */
import { isIP, type Socket } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { AbortError, fromSystemError } from '../errors.js';
import { MIN_TLS_VERSION } from '../stream/tls.js';

/** TlsCheck is what a TLS handshake on a port showed. */
export interface TlsCheck {
  /** True when the handshake completed. */
  readonly handshake: boolean;
  /** The negotiated version (`TLSv1.3`), after a handshake. */
  readonly version?: string | undefined;
  /** The certificate's subject common name, when it has one. */
  readonly subject?: string | undefined;
  /** Every name the certificate answers for: its DNS and IP subject alternative names. */
  readonly names?: readonly string[] | undefined;
  /** True when a client verifying as sockkit's does (system CAs or `ca`, host name) would accept it. */
  readonly verified?: boolean | undefined;
  /** Why verification failed, or why the handshake did (in sockkit's words). */
  readonly reason?: string | undefined;
}

/** TlsCheckOptions tune tlsCheck(). */
export interface TlsCheckOptions {
  /** The name sent for SNI and checked against the certificate; default: the scanned host, when a name. */
  readonly servername?: string | undefined;
  /** CA certificates (PEM) to verify against instead of the system's. */
  readonly ca?: string | Buffer | undefined;
  /** How long the handshake may take, in milliseconds; the probe's timeout by default. */
  readonly timeout?: number | undefined;
}

/**
 * tlsCheck runs a TLS handshake over the connected `socket` (to `url`, for errors) and resolves
 * with what it showed; a failed handshake is an outcome, not an error. Resolves undefined when
 * `signal` aborts. `host` is the name scanned, for SNI and the host-name check.
 */
export function tlsCheck(
  socket: Socket,
  url: string,
  options: TlsCheckOptions & { host: string; signal?: AbortSignal | undefined },
): Promise<TlsCheck | undefined> {
  const servername = options.servername ?? (isIP(options.host) === 0 ? options.host : undefined);
  return new Promise((resolve) => {
    const secure = connect({
      socket,
      // Node checks the certificate against `host` (default `localhost`) when there is no SNI name.
      host: servername ?? options.host,
      ...(servername ? { servername } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      rejectUnauthorized: false,
      minVersion: MIN_TLS_VERSION,
    });
    const finish = (check: TlsCheck | undefined): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      secure.removeAllListeners('error');
      secure.on('error', () => {});
      resolve(check);
    };
    const onAbort = (): void => finish(undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => finish({ handshake: false, reason: 'TLS handshake timed out' }),
      options.timeout ?? 5000,
    );
    secure.once('secureConnect', () => {
      const certificate = secure.getPeerCertificate();
      const empty = !certificate || Object.keys(certificate).length === 0;
      // Node fills authorizationError even without rejectUnauthorized: chain, then host name.
      const reason = secure.authorizationError ? describe(url, secure.authorizationError) : undefined;
      finish({
        handshake: true,
        version: secure.getProtocol() ?? undefined,
        ...(empty ? {} : namesOf(certificate)),
        verified: reason === undefined && !empty,
        ...(reason ? { reason } : {}),
      });
    });
    secure.once('error', (err) => {
      if (err instanceof AbortError) return finish(undefined);
      finish({ handshake: false, reason: fromSystemError('scan', url, err).reason });
    });
  });
}

/** describe words a verification failure (an Error, or the bare OpenSSL code Node sometimes gives). */
function describe(url: string, failure: Error | string): string {
  const err = typeof failure === 'string' ? Object.assign(new Error(failure), { code: failure }) : failure;
  return fromSystemError('scan', url, err).reason;
}

/** namesOf reads a certificate's subject common name and its subject alternative names. */
function namesOf(certificate: PeerCertificate): { subject?: string | undefined; names: string[] } {
  const cn = certificate.subject?.CN;
  const subject = Array.isArray(cn) ? cn[0] : cn;
  const names = (certificate.subjectaltname ?? '')
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1])
    .filter((name): name is string => name !== undefined);
  return { ...(subject ? { subject } : {}), names };
}
