/**
 * The error contract, read as a specification: one class per code with a fixed `name` and a
 * literal `code`, messages that read `OP URL: cause`, the errno kept from the system error behind,
 * one way to re-wrap under a new operation, and system and TLS failures in one human sentence.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbortError,
  AddressError,
  AddressInUseError,
  AddressNotAvailableError,
  ConnectionRefusedError,
  ConnectionResetError,
  describeTlsClientFailure,
  type ErrorCode,
  errorFor,
  FrameTooLargeError,
  fromSystemError,
  HostNotFoundError,
  IoError,
  isSockkitError,
  isUsageCode,
  MessageTooLargeError,
  NoReplyError,
  PacketError,
  PermissionDeniedError,
  ProtocolError,
  RawUnavailableError,
  rewrap,
  SchemeError,
  SockkitError,
  TimeoutError,
  TlsError,
  UnreachableError,
  UsageError,
} from '../src/errors.js';

const URL = 'tcp://127.0.0.1:7';

/** systemError is a Node.js system error as `net` raises it: a message with the errno, and `code`. */
function systemError(code: string, message = `connect ${code} 127.0.0.1:7`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });
}

/** The class name each code's error has: a Record, so a code added to ErrorCode fails to compile here. */
const classOf: Record<ErrorCode, string> = {
  ERR_USAGE: 'UsageError',
  ERR_INVALID_ADDRESS: 'AddressError',
  ERR_UNSUPPORTED_SCHEME: 'SchemeError',
  ERR_CONNECTION_REFUSED: 'ConnectionRefusedError',
  ERR_CONNECTION_RESET: 'ConnectionResetError',
  ERR_ADDRESS_IN_USE: 'AddressInUseError',
  ERR_ADDRESS_NOT_AVAILABLE: 'AddressNotAvailableError',
  ERR_HOST_NOT_FOUND: 'HostNotFoundError',
  ERR_UNREACHABLE: 'UnreachableError',
  ERR_TIMEOUT: 'TimeoutError',
  ERR_NO_REPLY: 'NoReplyError',
  ERR_MESSAGE_TOO_LARGE: 'MessageTooLargeError',
  ERR_PERMISSION_DENIED: 'PermissionDeniedError',
  ERR_RAW_UNAVAILABLE: 'RawUnavailableError',
  ERR_MALFORMED_PACKET: 'PacketError',
  ERR_TLS: 'TlsError',
  ERR_FRAME_TOO_LARGE: 'FrameTooLargeError',
  ERR_PROTOCOL: 'ProtocolError',
  ERR_PROXY_REFUSED: 'ProxyRefusedError',
  ERR_ABORTED: 'AbortError',
  ERR_IO: 'IoError',
};
const codes = Object.keys(classOf) as ErrorCode[];

describe('every error class', () => {
  const cases: [SockkitError, string, ErrorCode, string][] = [
    [
      new UsageError('listen', 'backlog must be at least 1', URL),
      'UsageError',
      'ERR_USAGE',
      'backlog must be at least 1',
    ],
    [
      new ConnectionRefusedError('connect', URL),
      'ConnectionRefusedError',
      'ERR_CONNECTION_REFUSED',
      'connection refused',
    ],
    [
      new ConnectionResetError('read', URL),
      'ConnectionResetError',
      'ERR_CONNECTION_RESET',
      'connection reset by peer',
    ],
    [
      new AddressInUseError('listen', URL),
      'AddressInUseError',
      'ERR_ADDRESS_IN_USE',
      'address already in use',
    ],
    [
      new AddressNotAvailableError('listen', URL),
      'AddressNotAvailableError',
      'ERR_ADDRESS_NOT_AVAILABLE',
      'address not available on this host',
    ],
    [new HostNotFoundError('connect', URL), 'HostNotFoundError', 'ERR_HOST_NOT_FOUND', 'host not found'],
    [new UnreachableError('connect', URL), 'UnreachableError', 'ERR_UNREACHABLE', 'host unreachable'],
    [new TimeoutError('connect', URL), 'TimeoutError', 'ERR_TIMEOUT', 'timed out'],
    [new NoReplyError('send', URL), 'NoReplyError', 'ERR_NO_REPLY', 'no reply'],
    [
      new MessageTooLargeError('send', URL),
      'MessageTooLargeError',
      'ERR_MESSAGE_TOO_LARGE',
      'message too long for a datagram',
    ],
    [
      new PermissionDeniedError('listen', URL),
      'PermissionDeniedError',
      'ERR_PERMISSION_DENIED',
      'permission denied',
    ],
    [
      new RawUnavailableError('ping', '127.0.0.1', 'the addon is not built'),
      'RawUnavailableError',
      'ERR_RAW_UNAVAILABLE',
      'the addon is not built',
    ],
    [new PacketError('decode icmp4', 'too short', URL), 'PacketError', 'ERR_MALFORMED_PACKET', 'too short'],
    [new TlsError('connect', URL, 'bad certificate'), 'TlsError', 'ERR_TLS', 'bad certificate'],
    [new ProtocolError('read', URL, 'unexpected bytes'), 'ProtocolError', 'ERR_PROTOCOL', 'unexpected bytes'],
    [new AbortError('accept', URL), 'AbortError', 'ERR_ABORTED', 'aborted'],
    [new IoError('read', URL, 'invalid argument'), 'IoError', 'ERR_IO', 'invalid argument'],
  ];

  for (const [err, name, code, reason] of cases) {
    test(`${name} has its name, the code ${code} and the message "OP URL: cause"`, () => {
      assert.ok(err instanceof SockkitError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, name);
      assert.equal(err.code, code);
      assert.equal(classOf[code], name);
      assert.equal(err.reason, reason);
      assert.equal(err.message, `${err.op} ${err.url}: ${reason}`);
      assert.equal(String(err), `${name}: ${err.op} ${err.url}: ${reason}`);
      assert.ok(isSockkitError(err));
    });
  }

  test('an error with no address reads "OP: cause"', () => {
    const err = new UsageError('bench', '--connections must be at least 1');
    assert.equal(err.url, '');
    assert.equal(err.message, 'bench: --connections must be at least 1');
  });

  test('UsageError carries the URL it concerns', () => {
    const err = new UsageError(
      'listen',
      'a tls:// listener needs a certificate and its key',
      'tls://127.0.0.1:0',
    );
    assert.equal(err.op, 'listen');
    assert.equal(err.url, 'tls://127.0.0.1:0');
    assert.equal(err.message, 'listen tls://127.0.0.1:0: a tls:// listener needs a certificate and its key');
  });

  test('AddressError quotes the URL, so an empty or spaced one still reads as one', () => {
    const err = new AddressError('tcp//x', 'missing scheme');
    assert.ok(err instanceof UsageError);
    assert.equal(err.name, 'AddressError');
    assert.equal(err.code, 'ERR_INVALID_ADDRESS');
    assert.equal(err.op, 'address');
    assert.equal(err.url, 'tcp//x');
    assert.equal(err.message, 'address "tcp//x": missing scheme');
    assert.equal(new AddressError('', 'empty').message, 'address "": empty');
  });

  test('SchemeError names the scheme it got and the schemes the operation takes', () => {
    const err = new SchemeError('connect', 'udp://127.0.0.1:7', 'udp', ['tcp', 'tls', 'unix']);
    assert.ok(err instanceof UsageError);
    assert.equal(err.name, 'SchemeError');
    assert.equal(err.code, 'ERR_UNSUPPORTED_SCHEME');
    assert.deepEqual(err.expected, ['tcp', 'tls', 'unix']);
    assert.equal(
      err.message,
      'connect udp://127.0.0.1:7: udp:// is not supported here (expected tcp://, tls:// or unix://)',
    );
    assert.equal(
      new SchemeError('send', 'tcp://127.0.0.1:7', 'tcp', ['udp']).message,
      'send tcp://127.0.0.1:7: tcp:// is not supported here (expected udp://)',
    );
  });

  test('FrameTooLargeError gives the size, the limit, and whether the size is only a lower bound', () => {
    const exact = new FrameTooLargeError('read', URL, 2000, 1024);
    assert.equal(exact.name, 'FrameTooLargeError');
    assert.equal(exact.code, 'ERR_FRAME_TOO_LARGE');
    assert.equal(exact.message, `read ${URL}: frame of 2000 bytes exceeds the maximum of 1024 bytes`);
    assert.deepEqual([exact.size, exact.limit, exact.atLeast], [2000, 1024, false]);
    const partial = new FrameTooLargeError('read', URL, 1025, 1024, true);
    assert.equal(
      partial.message,
      `read ${URL}: frame of at least 1025 bytes exceeds the maximum of 1024 bytes`,
    );
  });

  test('the errno of the system error behind is kept, and the error itself is the cause', () => {
    const cause = systemError('ECONNREFUSED');
    const err = new ConnectionRefusedError('connect', URL, 'connection refused', { cause });
    assert.equal(err.errno, 'ECONNREFUSED');
    assert.equal(err.cause, cause);
    assert.equal(new TimeoutError('connect', URL).errno, undefined);
  });

  test('an error built on another sockkit error keeps the errno from deep down', () => {
    const inner = new ConnectionResetError('read', URL, undefined, { cause: systemError('ECONNRESET') });
    const outer = new ConnectionResetError('bench', URL, undefined, { cause: inner });
    assert.equal(outer.errno, 'ECONNRESET');
  });
});

describe('errorFor', () => {
  for (const code of codes) {
    test(`builds a ${classOf[code]} for ${code}`, () => {
      const err = errorFor(code, 'connect', URL, 'some reason');
      assert.ok(err instanceof SockkitError);
      assert.equal(err.code, code);
      assert.equal(err.name, classOf[code]);
      assert.equal(err.constructor.name, classOf[code]);
      if (code !== 'ERR_ABORTED') assert.equal(err.reason, 'some reason');
      if (code !== 'ERR_INVALID_ADDRESS') assert.equal(err.op, 'connect');
      assert.equal(err.url, URL);
    });
  }

  test('keeps the errno of the cause it is given', () => {
    const err = errorFor('ERR_CONNECTION_RESET', 'read', URL, 'connection reset by peer', {
      cause: systemError('ECONNRESET'),
    });
    assert.ok(err instanceof ConnectionResetError);
    assert.equal(err.errno, 'ECONNRESET');
  });
});

describe('rewrap', () => {
  test('reports an error under a new operation, keeping its class, code, reason and errno', () => {
    const inner = new ConnectionRefusedError('connect', URL, undefined, {
      cause: systemError('ECONNREFUSED'),
    });
    const outer = rewrap(inner, 'bench', 'tcp://127.0.0.1:9');
    assert.ok(outer instanceof ConnectionRefusedError);
    assert.equal(outer.name, 'ConnectionRefusedError');
    assert.equal(outer.code, 'ERR_CONNECTION_REFUSED');
    assert.equal(outer.reason, 'connection refused');
    assert.equal(outer.errno, 'ECONNREFUSED');
    assert.equal(outer.message, 'bench tcp://127.0.0.1:9: connection refused');
    assert.equal(outer.cause, inner);
  });

  for (const code of codes) {
    test(`keeps the class of a ${classOf[code]}`, () => {
      const outer = rewrap(errorFor(code, 'connect', URL, 'why'), 'bench', 'tcp://127.0.0.1:9');
      assert.equal(outer.name, classOf[code]);
      assert.equal(outer.code, code);
    });
  }

  test('keeps the size and limit of a FrameTooLargeError', () => {
    const outer = rewrap(new FrameTooLargeError('read', URL, 2000, 1024), 'connect', 'tcp://127.0.0.1:9');
    assert.ok(outer instanceof FrameTooLargeError);
    assert.deepEqual([outer.size, outer.limit, outer.atLeast], [2000, 1024, false]);
    assert.equal(
      outer.message,
      'connect tcp://127.0.0.1:9: frame of 2000 bytes exceeds the maximum of 1024 bytes',
    );
  });

  test('keeps the schemes a SchemeError expected', () => {
    const inner = new SchemeError('connect', 'udp://127.0.0.1:7', 'udp', ['tcp', 'tls', 'unix']);
    const outer = rewrap(inner, 'bench', 'udp://127.0.0.1:7');
    assert.ok(outer instanceof SchemeError);
    assert.deepEqual(outer.expected, ['tcp', 'tls', 'unix']);
    assert.equal(
      outer.message,
      'bench udp://127.0.0.1:7: udp:// is not supported here (expected tcp://, tls:// or unix://)',
    );
  });

  test('returns the same error when the operation and address are already those', () => {
    const err = new TimeoutError('connect', URL);
    assert.equal(rewrap(err, 'connect', URL), err);
  });

  test('turns a system error into its class first', () => {
    const err = rewrap(systemError('EADDRINUSE'), 'listen', URL);
    assert.ok(err instanceof AddressInUseError);
    assert.equal(err.message, `listen ${URL}: address already in use`);
    assert.equal(err.errno, 'EADDRINUSE');
  });
});

describe('fromSystemError', () => {
  const cases: [string, string, string, string][] = [
    ['ECONNREFUSED', 'ConnectionRefusedError', 'ERR_CONNECTION_REFUSED', 'connection refused'],
    ['EADDRINUSE', 'AddressInUseError', 'ERR_ADDRESS_IN_USE', 'address already in use'],
    ['ENOENT', 'ConnectionRefusedError', 'ERR_CONNECTION_REFUSED', 'no such socket file'],
    [
      'EMFILE',
      'IoError',
      'ERR_IO',
      'too many open files (raise the limit with ulimit -n, or use fewer connections)',
    ],
    ['ECONNRESET', 'ConnectionResetError', 'ERR_CONNECTION_RESET', 'connection reset by peer'],
    ['EPIPE', 'ConnectionResetError', 'ERR_CONNECTION_RESET', 'broken pipe (peer closed the connection)'],
    ['ETIMEDOUT', 'TimeoutError', 'ERR_TIMEOUT', 'timed out'],
    ['ENOTFOUND', 'HostNotFoundError', 'ERR_HOST_NOT_FOUND', 'host not found'],
    ['EHOSTUNREACH', 'UnreachableError', 'ERR_UNREACHABLE', 'host unreachable'],
    ['EACCES', 'PermissionDeniedError', 'ERR_PERMISSION_DENIED', 'permission denied'],
    ['EMSGSIZE', 'MessageTooLargeError', 'ERR_MESSAGE_TOO_LARGE', 'message too long for a datagram'],
  ];
  for (const [errno, name, code, reason] of cases) {
    test(`${errno} becomes ${name} with one sentence, not Node's text`, () => {
      const err = fromSystemError('connect', URL, systemError(errno));
      assert.equal(err.name, name);
      assert.equal(err.code, code);
      assert.equal(err.errno, errno);
      assert.equal(err.message, `connect ${URL}: ${reason}`);
      assert.doesNotMatch(err.message, new RegExp(errno));
    });
  }

  // Node's messages for these carry OpenSSL's text: `error:0A00010B:SSL routines:ssl3_get_record:...`.
  const openssl =
    'C0E7A2F5A07F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl';
  const tlsCases: [string, string][] = [
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'certificate verification failed: self-signed certificate'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'certificate verification failed: issuer not trusted'],
    ['CERT_HAS_EXPIRED', 'certificate verification failed: certificate has expired'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'the peer does not speak TLS (wrong version number)'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'the server requires a client certificate'],
    ['ERR_SSL_SOMETHING_NEW', 'the TLS handshake failed (ERR_SSL_SOMETHING_NEW)'],
    ['SOME_FUTURE_CERT', 'the TLS handshake failed (SOME_FUTURE_CERT)'],
  ];
  for (const [errno, reason] of tlsCases) {
    test(`${errno} becomes a TlsError in one sentence, with no OpenSSL text`, () => {
      const err = fromSystemError('connect', 'tls://127.0.0.1:7', systemError(errno, openssl));
      assert.ok(err instanceof TlsError);
      assert.equal(err.code, 'ERR_TLS');
      assert.equal(err.errno, errno);
      assert.equal(err.message, `connect tls://127.0.0.1:7: ${reason}`);
      assert.doesNotMatch(err.message, /SSL routines|error:0A|openssl|\n/);
    });
  }

  test('a host-name mismatch says which names were compared', () => {
    const cause = Object.assign(systemError('ERR_TLS_CERT_ALTNAME_INVALID'), {
      reason: "Host: example.test. is not in the cert's altnames: DNS:localhost",
    });
    const err = fromSystemError('connect', 'tls://example.test:443', cause);
    assert.ok(err instanceof TlsError);
    assert.equal(
      err.message,
      "connect tls://example.test:443: certificate verification failed: wrong host (Host: example.test. is not in the cert's altnames: DNS:localhost)",
    );
  });

  test('an error with no known code keeps its own words as an IoError', () => {
    const err = fromSystemError('read', URL, new Error('something odd'));
    assert.ok(err instanceof IoError);
    assert.equal(err.message, `read ${URL}: something odd`);
    assert.equal(fromSystemError('read', URL, 'a string').message, `read ${URL}: a string`);
  });

  test('a sockkit error passes through unchanged', () => {
    const err = new TimeoutError('connect', URL);
    assert.equal(fromSystemError('bench', 'tcp://127.0.0.1:9', err), err);
  });
});

describe('describeTlsClientFailure', () => {
  test("words a client's failed handshake as a server logs it", () => {
    assert.equal(
      describeTlsClientFailure(systemError('ERR_SSL_HTTP_REQUEST')),
      'the client does not speak TLS',
    );
    assert.equal(describeTlsClientFailure(systemError('CERT_HAS_EXPIRED')), 'expired');
    assert.equal(
      describeTlsClientFailure(systemError('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL')),
      'no ALPN protocol in common',
    );
    assert.equal(
      describeTlsClientFailure(systemError('ERR_SSL_NEW')),
      'the TLS handshake failed (ERR_SSL_NEW)',
    );
    assert.equal(describeTlsClientFailure(new Error('x')), 'the TLS handshake failed');
  });
});

describe('isUsageCode', () => {
  test("is true for a caller's mistake (exit 2) and false for every run-time failure (exit 1)", () => {
    const usage = codes.filter(isUsageCode);
    assert.deepEqual(usage, ['ERR_USAGE', 'ERR_INVALID_ADDRESS', 'ERR_UNSUPPORTED_SCHEME']);
  });

  test('every UsageError, AddressError and SchemeError carries a usage code', () => {
    for (const err of [
      new UsageError('bench', 'bad'),
      new AddressError('x', 'bad'),
      new SchemeError('connect', 'udp://h:1', 'udp', ['tcp']),
    ])
      assert.ok(isUsageCode(err.code), err.name);
  });
});
