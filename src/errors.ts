/**
 * Every error sockkit raises, in one module as undici keeps them. There is one class per code,
 * each with a fixed `name` and a literal `code`, so callers match on `err.code` and TypeScript
 * narrows it. Messages read `OP URL: cause`, like Go's `dial tcp 127.0.0.1:7: connection refused`.
 * docs/errors.md lists every code, its meaning and the CLI's exit code for it.
 */

/** ErrorCode lists every code a SockkitError can carry. */
export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_INVALID_ADDRESS'
  | 'ERR_UNSUPPORTED_SCHEME'
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
  | 'ERR_PROXY_REFUSED'
  | 'ERR_ABORTED'
  | 'ERR_IO';

/** USAGE_CODES are the codes of a caller's mistake rather than a run-time failure (CLI exit 2). */
export const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_USAGE',
  'ERR_INVALID_ADDRESS',
  'ERR_UNSUPPORTED_SCHEME',
]);

/** isUsageCode tells whether `code` is a caller's mistake (exit 2) rather than a run-time failure (exit 1). */
export function isUsageCode(code: ErrorCode): boolean {
  return USAGE_CODES.has(code);
}

/** ErrorInit is what every error may carry besides its words: the system error behind it. */
export interface ErrorInit {
  readonly cause?: unknown;
}

/**
 * SockkitError is the base of every error sockkit raises. `op` is the operation (`connect`,
 * `listen`, `send`, ...), `url` the address it concerned (empty when there is none), and `reason`
 * the cause in words. Build one through its class, or `errorFor` when the code is only known at
 * run time.
 */
export class SockkitError extends Error {
  override name = 'SockkitError';
  readonly code: ErrorCode;
  readonly op: string;
  readonly url: string;
  readonly reason: string;
  /** The errno name (`ECONNREFUSED`) when the error came from the system. */
  readonly errno: string | undefined;

  constructor(code: ErrorCode, op: string, url: string, reason: string, options?: ErrorInit) {
    super(url ? `${op} ${url}: ${reason}` : `${op}: ${reason}`, options);
    this.code = code;
    this.op = op;
    this.url = url;
    this.reason = reason;
    const cause = options?.cause;
    if (cause instanceof SockkitError) this.errno = cause.errno;
    else {
      const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
      this.errno = typeof errno === 'string' ? errno : undefined;
    }
  }
}

/**
 * UsageError reports a caller's mistake: a value out of range, an option that does not apply, an
 * unknown flag. `url` is the address concerned, when there is one. The CLI exits 2.
 */
export class UsageError extends SockkitError {
  override name = 'UsageError';
  declare readonly code: 'ERR_USAGE' | 'ERR_INVALID_ADDRESS' | 'ERR_UNSUPPORTED_SCHEME';
  /**
   * The library option at fault (`multicastTtl`), when there is one. `reason` names it in those
   * words; a command line that spells it as a flag (`--multicast-ttl`) rewrites it with `flagFor`.
   */
  readonly option: string | undefined;
  constructor(op: string, reason: string, url = '', option?: string) {
    super('ERR_USAGE', op, url, reason);
    this.option = option;
  }
}

/**
 * optionError reports a library option with a value that cannot work; the reason starts with the
 * option's name, as a library user wrote it: `multicastTtl 300: expected a whole number from 0 to 255`.
 */
export function optionError(op: string, option: string, reason: string, url = ''): UsageError {
  return new UsageError(op, `${option} ${reason}`, url, option);
}

/** AddressError reports a socket URL that does not parse; the message names the offending part. */
export class AddressError extends UsageError {
  override name = 'AddressError';
  declare readonly code: 'ERR_INVALID_ADDRESS';
  constructor(url: string, reason: string) {
    super('address', reason, url);
    setCode(this, 'ERR_INVALID_ADDRESS');
    // Quoted, so an empty or spaced URL still reads as one: address "tcp//x": missing scheme.
    this.message = `address ${JSON.stringify(url)}: ${reason}`;
  }
}

/**
 * SchemeError reports an address of a kind the operation cannot use: `dial` of a `udp://` URL,
 * `dialPacket` of a `tcp://` one. It is one error everywhere, as Go's `UnknownNetworkError` is.
 */
export class SchemeError extends UsageError {
  override name = 'SchemeError';
  declare readonly code: 'ERR_UNSUPPORTED_SCHEME';
  /** The scheme the address had. */
  readonly scheme: string;
  /** The schemes the operation takes (empty when not known, as for an error rebuilt by `errorFor`). */
  readonly expected: readonly string[];
  constructor(op: string, url: string, scheme: string, expected: readonly string[], reason?: string) {
    super(
      op,
      reason ?? `${scheme}:// is not supported here (expected ${listOr(expected.map((s) => `${s}://`))})`,
      url,
    );
    setCode(this, 'ERR_UNSUPPORTED_SCHEME');
    this.scheme = scheme;
    this.expected = expected;
  }
}

/** ConnectionRefusedError: nobody listens at the address (TCP RST, ICMP port unreachable, no socket file). */
export class ConnectionRefusedError extends SockkitError {
  override name = 'ConnectionRefusedError';
  declare readonly code: 'ERR_CONNECTION_REFUSED';
  constructor(op: string, url: string, reason = 'connection refused', options?: ErrorInit) {
    super('ERR_CONNECTION_REFUSED', op, url, reason, options);
  }
}

/** ConnectionResetError: the peer reset the connection, or closed it while we were writing. */
export class ConnectionResetError extends SockkitError {
  override name = 'ConnectionResetError';
  declare readonly code: 'ERR_CONNECTION_RESET';
  constructor(op: string, url: string, reason = 'connection reset by peer', options?: ErrorInit) {
    super('ERR_CONNECTION_RESET', op, url, reason, options);
  }
}

/** AddressInUseError: another socket holds the port or the Unix path. */
export class AddressInUseError extends SockkitError {
  override name = 'AddressInUseError';
  declare readonly code: 'ERR_ADDRESS_IN_USE';
  constructor(op: string, url: string, reason = 'address already in use', options?: ErrorInit) {
    super('ERR_ADDRESS_IN_USE', op, url, reason, options);
  }
}

/** AddressNotAvailableError: the address is not on this host, or no interface can reach it. */
export class AddressNotAvailableError extends SockkitError {
  override name = 'AddressNotAvailableError';
  declare readonly code: 'ERR_ADDRESS_NOT_AVAILABLE';
  constructor(op: string, url: string, reason = 'address not available on this host', options?: ErrorInit) {
    super('ERR_ADDRESS_NOT_AVAILABLE', op, url, reason, options);
  }
}

/** HostNotFoundError: the name does not resolve. */
export class HostNotFoundError extends SockkitError {
  override name = 'HostNotFoundError';
  declare readonly code: 'ERR_HOST_NOT_FOUND';
  constructor(op: string, url: string, reason = 'host not found', options?: ErrorInit) {
    super('ERR_HOST_NOT_FOUND', op, url, reason, options);
  }
}

/** UnreachableError: no route to the network or the host. */
export class UnreachableError extends SockkitError {
  override name = 'UnreachableError';
  declare readonly code: 'ERR_UNREACHABLE';
  constructor(op: string, url: string, reason = 'host unreachable', options?: ErrorInit) {
    super('ERR_UNREACHABLE', op, url, reason, options);
  }
}

/** TimeoutError reports an operation that did not finish within its deadline. */
export class TimeoutError extends SockkitError {
  override name = 'TimeoutError';
  declare readonly code: 'ERR_TIMEOUT';
  constructor(op: string, url: string, reason = 'timed out', options?: ErrorInit) {
    super('ERR_TIMEOUT', op, url, reason, options);
  }
}

/** NoReplyError: a datagram got no answer after every retry. UDP promises no delivery. */
export class NoReplyError extends SockkitError {
  override name = 'NoReplyError';
  declare readonly code: 'ERR_NO_REPLY';
  constructor(op: string, url: string, reason = 'no reply', options?: ErrorInit) {
    super('ERR_NO_REPLY', op, url, reason, options);
  }
}

/** MessageTooLargeError: a message larger than a datagram can carry; it is never truncated. */
export class MessageTooLargeError extends SockkitError {
  override name = 'MessageTooLargeError';
  declare readonly code: 'ERR_MESSAGE_TOO_LARGE';
  constructor(op: string, url: string, reason = 'message too long for a datagram', options?: ErrorInit) {
    super('ERR_MESSAGE_TOO_LARGE', op, url, reason, options);
  }
}

/** PermissionDeniedError: the system refused (a port below 1024, a raw socket without privileges). */
export class PermissionDeniedError extends SockkitError {
  override name = 'PermissionDeniedError';
  declare readonly code: 'ERR_PERMISSION_DENIED';
  constructor(op: string, url: string, reason = 'permission denied', options?: ErrorInit) {
    super('ERR_PERMISSION_DENIED', op, url, reason, options);
  }
}

/** RawUnavailableError: raw sockets need the optional `raw-socket` addon, which is not built. */
export class RawUnavailableError extends SockkitError {
  override name = 'RawUnavailableError';
  declare readonly code: 'ERR_RAW_UNAVAILABLE';
  constructor(op: string, url: string, reason: string, options?: ErrorInit) {
    super('ERR_RAW_UNAVAILABLE', op, url, reason, options);
  }
}

/**
 * PacketError reports a packet that does not decode: too short for its headers, a wrong
 * checksum, a field out of range. `op` names the layer (`decode icmp4`); a receiver drops the
 * packet and carries on, it never crashes on one.
 */
export class PacketError extends SockkitError {
  override name = 'PacketError';
  declare readonly code: 'ERR_MALFORMED_PACKET';
  constructor(op: string, reason: string, url = '') {
    super('ERR_MALFORMED_PACKET', op, url, reason);
  }
}

/** TlsError: a TLS handshake or a certificate check failed; `reason` is one sentence that says which. */
export class TlsError extends SockkitError {
  override name = 'TlsError';
  declare readonly code: 'ERR_TLS';
  constructor(op: string, url: string, reason: string, options?: ErrorInit) {
    super('ERR_TLS', op, url, reason, options);
  }
}

/**
 * FrameTooLargeError reports a frame (a line, a length-prefixed message) over a codec's maximum
 * size. A server closes only the connection that sent it. `size` is the frame's size when known,
 * or the bytes seen so far without an end of frame.
 */
export class FrameTooLargeError extends SockkitError {
  override name = 'FrameTooLargeError';
  declare readonly code: 'ERR_FRAME_TOO_LARGE';
  readonly size: number;
  readonly limit: number;
  /** True when `size` is a lower bound: the frame's end had not been seen yet. */
  readonly atLeast: boolean;
  constructor(op: string, url: string, size: number, limit: number, atLeast = false, reason?: string) {
    const what = `frame of ${atLeast ? 'at least ' : ''}${size} bytes`;
    super('ERR_FRAME_TOO_LARGE', op, url, reason ?? `${what} exceeds the maximum of ${limit} bytes`);
    this.size = size;
    this.limit = limit;
    this.atLeast = atLeast;
  }
}

/** ProtocolError: the peer broke the protocol (a malformed frame, bytes that were not asked for). */
export class ProtocolError extends SockkitError {
  override name = 'ProtocolError';
  declare readonly code: 'ERR_PROTOCOL';
  constructor(op: string, url: string, reason: string, options?: ErrorInit) {
    super('ERR_PROTOCOL', op, url, reason, options);
  }
}

/**
 * ProxyRefusedError: a proxy on the way answered, but would not open the tunnel (a rule, a failed
 * login, a destination it could not reach). `url` names the target and the hop that refused
 * (`tcp://example.test:80 via socks5://127.0.0.1:1080`); `reason` starts `proxy refused: `.
 */
export class ProxyRefusedError extends SockkitError {
  override name = 'ProxyRefusedError';
  declare readonly code: 'ERR_PROXY_REFUSED';
  constructor(op: string, url: string, reason: string, options?: ErrorInit) {
    super('ERR_PROXY_REFUSED', op, url, reason, options);
  }
}

/** AbortError reports an operation stopped by its AbortSignal; it is an expected outcome, not a fault. */
export class AbortError extends SockkitError {
  override name = 'AbortError';
  declare readonly code: 'ERR_ABORTED';
  constructor(op: string, url: string) {
    super('ERR_ABORTED', op, url, 'aborted');
  }
}

/** IoError: any other system failure; `reason` is the system's, in words. */
export class IoError extends SockkitError {
  override name = 'IoError';
  declare readonly code: 'ERR_IO';
  constructor(op: string, url: string, reason: string, options?: ErrorInit) {
    super('ERR_IO', op, url, reason, options);
  }
}

/** KnownError is the union of every error class, so a `switch (err.code)` narrows to the class. */
export type KnownError =
  | UsageError
  | AddressError
  | SchemeError
  | ConnectionRefusedError
  | ConnectionResetError
  | AddressInUseError
  | AddressNotAvailableError
  | HostNotFoundError
  | UnreachableError
  | TimeoutError
  | NoReplyError
  | MessageTooLargeError
  | PermissionDeniedError
  | RawUnavailableError
  | PacketError
  | TlsError
  | FrameTooLargeError
  | ProtocolError
  | ProxyRefusedError
  | AbortError
  | IoError;

/** isSockkitError tells whether `err` is one of sockkit's errors, typed so that `err.code` narrows. */
export function isSockkitError(err: unknown): err is KnownError {
  return err instanceof SockkitError;
}

type Build = (op: string, url: string, reason: string, options?: ErrorInit) => SockkitError;

/** How to build each code's error from its words (the codes whose classes take other arguments are adapted). */
const builders: Record<ErrorCode, Build> = {
  ERR_USAGE: (op, url, reason) => new UsageError(op, reason, url),
  ERR_INVALID_ADDRESS: (_op, url, reason) => new AddressError(url, reason),
  ERR_UNSUPPORTED_SCHEME: (op, url, reason) =>
    new SchemeError(op, url, /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1] ?? '', [], reason),
  ERR_CONNECTION_REFUSED: (op, url, reason, o) => new ConnectionRefusedError(op, url, reason, o),
  ERR_CONNECTION_RESET: (op, url, reason, o) => new ConnectionResetError(op, url, reason, o),
  ERR_ADDRESS_IN_USE: (op, url, reason, o) => new AddressInUseError(op, url, reason, o),
  ERR_ADDRESS_NOT_AVAILABLE: (op, url, reason, o) => new AddressNotAvailableError(op, url, reason, o),
  ERR_HOST_NOT_FOUND: (op, url, reason, o) => new HostNotFoundError(op, url, reason, o),
  ERR_UNREACHABLE: (op, url, reason, o) => new UnreachableError(op, url, reason, o),
  ERR_TIMEOUT: (op, url, reason, o) => new TimeoutError(op, url, reason, o),
  ERR_NO_REPLY: (op, url, reason, o) => new NoReplyError(op, url, reason, o),
  ERR_MESSAGE_TOO_LARGE: (op, url, reason, o) => new MessageTooLargeError(op, url, reason, o),
  ERR_PERMISSION_DENIED: (op, url, reason, o) => new PermissionDeniedError(op, url, reason, o),
  ERR_RAW_UNAVAILABLE: (op, url, reason, o) => new RawUnavailableError(op, url, reason, o),
  ERR_MALFORMED_PACKET: (op, url, reason) => new PacketError(op, reason, url),
  ERR_TLS: (op, url, reason, o) => new TlsError(op, url, reason, o),
  ERR_FRAME_TOO_LARGE: (op, url, reason) =>
    new FrameTooLargeError(op, url, Number.NaN, Number.NaN, false, reason),
  ERR_PROTOCOL: (op, url, reason, o) => new ProtocolError(op, url, reason, o),
  ERR_PROXY_REFUSED: (op, url, reason, o) => new ProxyRefusedError(op, url, reason, o),
  ERR_ABORTED: (op, url) => new AbortError(op, url),
  ERR_IO: (op, url, reason, o) => new IoError(op, url, reason, o),
};

/**
 * errorFor builds the error of class `code` for `op` on `url`, for the places where the code is
 * known only at run time (an error carried across a worker thread, a system error looked up in a
 * table). Elsewhere, construct the class itself.
 */
export function errorFor(
  code: ErrorCode,
  op: string,
  url: string,
  reason: string,
  options?: ErrorInit,
): SockkitError {
  return builders[code](op, url, reason, options);
}

/**
 * rewrap reports `err` under another operation and address, keeping its class, code and reason:
 * `connect tcp://…` inside a bench run becomes `bench tcp://…`. Anything that is not a
 * SockkitError is turned into one first, as `fromSystemError` does.
 */
export function rewrap(err: unknown, op: string, url: string): SockkitError {
  const inner = fromSystemError(op, url, err);
  if (inner.op === op && inner.url === url) return inner;
  if (inner instanceof FrameTooLargeError)
    return new FrameTooLargeError(op, url, inner.size, inner.limit, inner.atLeast, inner.reason);
  if (inner instanceof SchemeError)
    return new SchemeError(op, url, inner.scheme, inner.expected, inner.reason);
  return errorFor(inner.code, op, url, inner.reason, { cause: inner });
}

/** setCode gives a subclass its own literal code (the constructors above pass through a shared parent). */
function setCode<T extends SockkitError>(err: T, code: ErrorCode): T {
  (err as { code: ErrorCode }).code = code;
  return err;
}

function listOr(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
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
  EMFILE: ['ERR_IO', 'too many open files (raise the limit with ulimit -n, or use fewer connections)'],
  ENFILE: ['ERR_IO', 'too many open files on the system'],
  EINVAL: ['ERR_IO', 'invalid argument'],
};

/**
 * fromSystemError turns a Node.js system error (`err.code` such as `ECONNREFUSED`) or a TLS
 * failure into a SockkitError for `op` on `url`. A SockkitError passes through unchanged.
 */
export function fromSystemError(op: string, url: string, err: unknown): SockkitError {
  if (err instanceof SockkitError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const tls = errno ? tlsReason(errno, err as Error & { reason?: unknown }) : undefined;
  if (tls) return new TlsError(op, url, tls, { cause: err });
  const known = errno ? systemErrors[errno] : undefined;
  if (known) return errorFor(known[0], op, url, known[1], { cause: err });
  const text = err instanceof Error ? err.message : String(err);
  return new IoError(op, url, text, { cause: err });
}

/**
 * The one table of TLS failures, in words a person acts on. Keys are OpenSSL verify codes and
 * Node's `ERR_SSL_*`/`ERR_TLS_*` codes. `client` is the words for a server describing a client's
 * failed handshake, where they differ.
 */
const tlsFailures: Record<string, { reason: string; client?: string }> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: {
    reason: 'certificate verification failed: self-signed certificate',
    client: 'self-signed, not signed by a trusted client CA',
  },
  SELF_SIGNED_CERT_IN_CHAIN: {
    reason: 'certificate verification failed: self-signed certificate in the chain',
    client: 'its chain ends in a CA that is not trusted for clients',
  },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
    reason: 'certificate verification failed: issuer not trusted',
    client: 'not signed by a trusted client CA',
  },
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: {
    reason: 'certificate verification failed: issuer not trusted',
    client: 'not signed by a trusted client CA',
  },
  UNABLE_TO_GET_ISSUER_CERT: { reason: 'certificate verification failed: issuer not trusted' },
  CERT_HAS_EXPIRED: { reason: 'certificate verification failed: certificate has expired', client: 'expired' },
  CERT_NOT_YET_VALID: {
    reason: 'certificate verification failed: certificate is not yet valid',
    client: 'not yet valid',
  },
  CERT_SIGNATURE_FAILURE: { reason: 'certificate verification failed: bad signature' },
  ERR_TLS_CERT_ALTNAME_INVALID: { reason: 'certificate verification failed: wrong host' },
  ERR_TLS_FINGERPRINT_MISMATCH: { reason: 'certificate verification failed: fingerprint does not match' },
  ERR_TLS_HANDSHAKE_TIMEOUT: { reason: 'TLS handshake timed out' },
  ERR_SSL_WRONG_VERSION_NUMBER: {
    reason: 'the peer does not speak TLS (wrong version number)',
    client: 'the client does not speak TLS',
  },
  ERR_SSL_HTTP_REQUEST: {
    reason: 'the peer sent plaintext HTTP, not TLS',
    client: 'the client does not speak TLS',
  },
  ERR_SSL_PACKET_LENGTH_TOO_LONG: {
    reason: 'the peer does not speak TLS (its first bytes are not a TLS record)',
    client: 'the client does not speak TLS',
  },
  ERR_SSL_UNEXPECTED_MESSAGE: {
    reason: 'the peer does not speak TLS (it answered with something other than a TLS handshake)',
    client: 'the client does not speak TLS',
  },
  ERR_SSL_UNEXPECTED_EOF_WHILE_READING: { reason: 'the peer closed the connection during the TLS handshake' },
  ERR_SSL_UNSUPPORTED_PROTOCOL: { reason: 'no TLS version in common (sockkit requires TLS 1.2 or newer)' },
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: {
    reason: 'no TLS version in common (sockkit requires TLS 1.2 or newer)',
  },
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: { reason: 'the server requires a client certificate' },
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: {
    reason: 'the peer sent no client certificate',
    client: 'no client certificate (the server requires one)',
  },
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: { reason: 'the peer rejected our certificate' },
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: { reason: 'the peer rejected our certificate (unknown CA)' },
  ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL: { reason: 'no ALPN protocol in common' },
  ERR_SSL_NO_APPLICATION_PROTOCOL: { reason: 'no ALPN protocol in common' },
  ECONNRESET: { reason: 'connection reset by peer', client: 'the client reset the connection' },
};

/** isTlsFailureCode tells whether `errno` names a TLS or certificate failure (an OpenSSL verify code or `ERR_SSL_*`). */
function isTlsFailureCode(errno: string): boolean {
  return (
    (errno in tlsFailures && errno !== 'ECONNRESET') ||
    errno.startsWith('ERR_SSL_') ||
    errno.startsWith('ERR_TLS_') ||
    /^[A-Z_]+_CERT(_|$)/.test(errno)
  );
}

/**
 * tlsReason words a TLS or certificate failure as the client side sees it, or returns undefined
 * when `errno` is not one. OpenSSL's own text never reaches the user: a code missing from the
 * table is still one sentence, with the code for a search.
 */
function tlsReason(errno: string, err: Error & { reason?: unknown }): string | undefined {
  if (!isTlsFailureCode(errno)) return undefined;
  const known = tlsFailures[errno]?.reason;
  // Node's host-name check puts the names it compared in `reason`.
  const detailed = errno === 'ERR_TLS_CERT_ALTNAME_INVALID' || errno === 'ERR_TLS_FINGERPRINT_MISMATCH';
  if (known && detailed && typeof err.reason === 'string') return `${known} (${err.reason})`;
  return known ?? `the TLS handshake failed (${errno})`;
}

/**
 * describeTlsClientFailure words why a client's handshake failed, as a server logs it:
 * `the client does not speak TLS`, `expired`, `no client certificate (the server requires one)`.
 */
export function describeTlsClientFailure(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  return (
    tlsFailures[code]?.client ??
    tlsFailures[code]?.reason ??
    (code ? `the TLS handshake failed (${code})` : 'the TLS handshake failed')
  );
}
