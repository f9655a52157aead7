/**
 * Every error sockkit raises. Each class has a fixed `name` and a literal `code`, so callers match
 * on `err.code`; messages read `OP URL: cause`, like Go's `dial tcp 127.0.0.1:7: connection refused`.
 */

/** ErrorCode lists every code a SockkitError can carry. docs/errors.md explains each one. */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_INVALID_ADDRESS'
  | 'ERR_CONNECTION_REFUSED'
  | 'ERR_CONNECTION_RESET'
  | 'ERR_ADDRESS_IN_USE'
  | 'ERR_ADDRESS_NOT_AVAILABLE'
  | 'ERR_HOST_NOT_FOUND'
  | 'ERR_UNREACHABLE'
  | 'ERR_TIMEOUT'
  | 'ERR_NO_REPLY'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_PERMISSION_DENIED'
  | 'ERR_RAW_UNAVAILABLE'
  | 'ERR_MALFORMED_PACKET'
  | 'ERR_TLS'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_PROTOCOL'
  | 'ERR_ABORTED'
  | 'ERR_IO';

/**
 * SockkitError is the base of every error sockkit raises. `op` is the operation (`dial`,
 * `listen`, `send`, ...), `url` the address it concerned, and `reason` the cause in words.
 */
export class SockkitError extends Error {
  override name = 'SockkitError';
  readonly code: ErrorCode;
  readonly op: string;
  readonly url: string;
  readonly reason: string;
  /** The errno name (`ECONNREFUSED`) when the error came from the system. */
  readonly errno: string | undefined;

  constructor(code: ErrorCode, op: string, url: string, reason: string, options?: { cause?: unknown }) {
    super(url ? `${op} ${url}: ${reason}` : `${op}: ${reason}`, options);
    this.code = code;
    this.op = op;
    this.url = url;
    this.reason = reason;
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    this.errno = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/**
 * UsageError reports a caller's mistake: a malformed URL, a value out of range, an unknown flag.
 * The CLI maps it to exit code 2.
 */
export class UsageError extends SockkitError {
  override name = 'UsageError';
  constructor(op: string, reason: string, code: 'ERR_USAGE' | 'ERR_INVALID_ADDRESS' = 'ERR_USAGE') {
    super(code, op, '', reason);
  }
}

/** AddressError reports a socket URL that does not parse; the message names the offending part. */
export class AddressError extends UsageError {
  override name = 'AddressError';
  constructor(url: string, reason: string) {
    super(`address ${JSON.stringify(url)}`, reason, 'ERR_INVALID_ADDRESS');
  }
}

/** TimeoutError reports an operation that did not finish within its deadline. */
export class TimeoutError extends SockkitError {
  override name = 'TimeoutError';
  constructor(op: string, url: string, reason = 'timed out') {
    super('ERR_TIMEOUT', op, url, reason);
  }
}

/** AbortError reports an operation stopped by its AbortSignal; it is an expected outcome, not a fault. */
export class AbortError extends SockkitError {
  override name = 'AbortError';
  constructor(op: string, url: string) {
    super('ERR_ABORTED', op, url, 'aborted');
  }
}

/**
 * FrameTooLargeError reports a frame (a line, a length-prefixed message) over a codec's maximum
 * size. A server closes only the connection that sent it. `size` is the frame's size when known,
 * or the bytes seen so far without an end of frame.
 */
export class FrameTooLargeError extends SockkitError {
  override name = 'FrameTooLargeError';
  readonly size: number;
  readonly limit: number;
  /** True when `size` is a lower bound: the frame's end had not been seen yet. */
  readonly atLeast: boolean;
  constructor(op: string, url: string, size: number, limit: number, atLeast = false) {
    const what = `frame of ${atLeast ? 'at least ' : ''}${size} bytes`;
    super('ERR_FRAME_TOO_LARGE', op, url, `${what} exceeds the maximum of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
    this.atLeast = atLeast;
  }
}

/**
 * PacketError reports a packet that does not decode: too short for its headers, a wrong
 * checksum, a field out of range. `op` names the layer (`decode icmp4`); a receiver drops the
 * packet and carries on, it never crashes on one.
 */
export class PacketError extends SockkitError {
  override name = 'PacketError';
  constructor(op: string, reason: string) {
    super('ERR_MALFORMED_PACKET', op, '', reason);
  }
}

const systemErrors: Record<string, [ErrorCode, string]> = {
  ECONNREFUSED: ['ERR_CONNECTION_REFUSED', 'connection refused'],
  ECONNRESET: ['ERR_CONNECTION_RESET', 'connection reset by peer'],
  EPIPE: ['ERR_CONNECTION_RESET', 'broken pipe (peer closed the connection)'],
  EADDRINUSE: ['ERR_ADDRESS_IN_USE', 'address already in use'],
  EADDRNOTAVAIL: ['ERR_ADDRESS_NOT_AVAILABLE', 'address not available on this host'],
  ENOTFOUND: ['ERR_HOST_NOT_FOUND', 'host not found'],
  EAI_AGAIN: ['ERR_HOST_NOT_FOUND', 'name resolution failed (temporary)'],
  EAI_NONAME: ['ERR_HOST_NOT_FOUND', 'host not found'],
  ENETUNREACH: ['ERR_UNREACHABLE', 'network unreachable'],
  EHOSTUNREACH: ['ERR_UNREACHABLE', 'host unreachable'],
  EHOSTDOWN: ['ERR_UNREACHABLE', 'host is down'],
  ETIMEDOUT: ['ERR_TIMEOUT', 'timed out'],
  EACCES: ['ERR_PERMISSION_DENIED', 'permission denied'],
  EPERM: ['ERR_PERMISSION_DENIED', 'operation not permitted'],
  ENOENT: ['ERR_CONNECTION_REFUSED', 'no such socket file'],
  ENOTDIR: ['ERR_CONNECTION_REFUSED', 'no such socket file (a part of its path is not a directory)'],
  EMSGSIZE: ['ERR_MESSAGE_TOO_LARGE', 'message too long for a datagram'],
  EAFNOSUPPORT: ['ERR_ADDRESS_NOT_AVAILABLE', 'address family not supported'],
  ENODEV: ['ERR_ADDRESS_NOT_AVAILABLE', 'no such network device (no interface or route for it)'],
  EEXIST: ['ERR_ADDRESS_IN_USE', 'a file that is not a socket is in the way'],
  EINVAL: ['ERR_IO', 'invalid argument'],
};

/**
 * fromSystemError turns a Node.js system error (`err.code` such as `ECONNREFUSED`) into a
 * SockkitError for `op` on `url`. A SockkitError passes through unchanged.
 */
export function fromSystemError(op: string, url: string, err: unknown): SockkitError {
  if (err instanceof SockkitError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const tls = errno ? tlsReason(errno, err as Error & { reason?: unknown }) : undefined;
  if (tls) return new SockkitError('ERR_TLS', op, url, tls, { cause: err });
  const known = errno ? systemErrors[errno] : undefined;
  if (known) return new SockkitError(known[0], op, url, known[1], { cause: err });
  const text = err instanceof Error ? err.message : String(err);
  return new SockkitError('ERR_IO', op, url, text, { cause: err });
}

const tlsErrors: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate verification failed: self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate verification failed: self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate verification failed: issuer not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate verification failed: issuer not trusted',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate verification failed: issuer not trusted',
  CERT_HAS_EXPIRED: 'certificate verification failed: certificate has expired',
  CERT_NOT_YET_VALID: 'certificate verification failed: certificate is not yet valid',
  CERT_SIGNATURE_FAILURE: 'certificate verification failed: bad signature',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate verification failed: wrong host',
  ERR_TLS_FINGERPRINT_MISMATCH: 'certificate verification failed: fingerprint does not match',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'TLS handshake timed out',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the peer does not speak TLS (wrong version number)',
  ERR_SSL_HTTP_REQUEST: 'the peer sent plaintext HTTP, not TLS',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'no TLS version in common (sockkit requires TLS 1.2 or newer)',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'no TLS version in common (sockkit requires TLS 1.2 or newer)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the server requires a client certificate',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'the peer sent no client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the peer rejected our certificate',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'the peer rejected our certificate (unknown CA)',
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: 'no ALPN protocol in common',
  ERR_SSL_NO_APPLICATION_PROTOCOL: 'no ALPN protocol in common',
};

/** tlsReason words a TLS or certificate failure (an OpenSSL verify code or `ERR_SSL_*`), or returns undefined. */
function tlsReason(errno: string, err: Error & { reason?: unknown }): string | undefined {
  const known = tlsErrors[errno];
  // Node's host-name check puts the names it compared in `reason`.
  const detailed = errno === 'ERR_TLS_CERT_ALTNAME_INVALID' || errno === 'ERR_TLS_FINGERPRINT_MISMATCH';
  if (known && detailed && typeof err.reason === 'string') return `${known} (${err.reason})`;
  if (known) return known;
  if (errno.startsWith('ERR_SSL_') || errno.startsWith('ERR_TLS_') || /^[A-Z_]+_CERT(_|$)/.test(errno))
    return `TLS failure: ${err.message}`;
  return undefined;
}
