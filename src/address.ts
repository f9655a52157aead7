/**
 * Socket addresses as URLs (see CONVENTIONS.md): `tcp://127.0.0.1:65432`, `udp://[::1]:7`,
 * `tls://localhost:443`, `unix:/tmp/echo.sock`, `unix:@abstract-name`, `ws://127.0.0.1:8080/chat`. A URL is parsed once into
 * a typed SocketAddress; everything downstream takes that value and formats it back the same way.
 */
import { isIP } from 'node:net';
import { AddressError } from './errors.js';

/** InetScheme names the transports that run over IP. */
export type InetScheme = 'tcp' | 'udp' | 'tls';
/** WebSocketScheme names WebSocket over TCP (`ws`) and over TLS (`wss`). */
export type WebSocketScheme = 'ws' | 'wss';
/** Scheme names every transport a socket URL can name. */
export type Scheme = InetScheme | 'unix' | WebSocketScheme;

/** InetAddress is a host and port for TCP, UDP or TLS. `host` is a name or an IP literal, without brackets. */
export interface InetAddress {
  readonly scheme: InetScheme;
  readonly host: string;
  readonly port: number;
}

/** UnixAddress is a Unix domain stream socket: a file path, or a Linux abstract name when `abstract`. */
export interface UnixAddress {
  readonly scheme: 'unix';
  readonly path: string;
  readonly abstract: boolean;
}

/**
 * WebSocketAddress is a WebSocket endpoint: a host and port as for TCP, and the HTTP path the
 * upgrade request names (`/` when the URL has none; a query is part of it: `/chat?room=a`).
 */
export interface WebSocketAddress {
  readonly scheme: WebSocketScheme;
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

/** SocketAddress is any address sockkit can listen on or dial. */
export type SocketAddress = InetAddress | UnixAddress | WebSocketAddress;

/**
 * AddressOf is the address type of the schemes in `S`: `AddressOf<'tcp' | 'unix'>` is
 * `InetAddress | UnixAddress`, so a command that takes only those never sees a WebSocketAddress.
 */
export type AddressOf<S extends Scheme> = S extends 'unix'
  ? UnixAddress
  : S extends WebSocketScheme
    ? WebSocketAddress
    : InetAddress;

const inetSchemes: readonly string[] = ['tcp', 'udp', 'tls'];
const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

/**
 * MAX_UNIX_PATH_BYTES is the longest Unix socket path or abstract name, in UTF-8 bytes: the
 * kernel's `sun_path` holds 108 bytes, with a terminating NUL after a path or a leading NUL
 * before an abstract name.
 */
export const MAX_UNIX_PATH_BYTES = 107;

/**
 * parseAddress parses a socket URL into a SocketAddress.
 * Throws AddressError (code `ERR_INVALID_ADDRESS`, exit 2 in the CLI) naming the offending part:
 * an unknown scheme, a missing or out-of-range port, a malformed host, an empty path, or a Unix
 * path or abstract name over MAX_UNIX_PATH_BYTES. A relative Unix path (`unix:app.sock`) is kept
 * as written: the system resolves it against the working directory when it binds or connects.
 */
export function parseAddress(url: string): SocketAddress {
  const colon = url.indexOf(':');
  const schemeText = url.slice(0, Math.max(colon, 0));
  const scheme = schemeText.toLowerCase();
  // `host:80` is a forgotten tcp://; but `unix:80` is the file 80 in the working directory.
  const bareHostPort = scheme !== 'unix' && /^\d+$/.test(url.slice(colon + 1));
  if (colon <= 0 || !/^[a-z][a-z0-9+.-]*$/i.test(schemeText) || bareHostPort) {
    const hint = /^[\w.-]+:\d+$|^\[[^\]]*\]:\d+$/.test(url) ? `; did you mean tcp://${url}?` : '';
    throw new AddressError(
      url,
      `missing scheme (expected tcp://, udp://, tls://, unix:, ws:// or wss://)${hint}`,
    );
  }
  const rest = url.slice(colon + 1);
  if (scheme === 'unix') return parseUnix(url, rest);
  const webSocket = scheme === 'ws' || scheme === 'wss';
  if (!inetSchemes.includes(scheme) && !webSocket) {
    throw new AddressError(url, `unknown scheme "${scheme}" (expected tcp, udp, tls, unix, ws or wss)`);
  }
  if (!rest.startsWith('//')) throw new AddressError(url, `expected "${scheme}://host:port"`);
  if (webSocket) return parseWebSocket(url, scheme, rest.slice(2));
  return parseInet(url, scheme as InetScheme, rest.slice(2));
}

/**
 * parseWebSocket reads `host:port[/path][?query]`. The path is kept as written (it is sent in the
 * upgrade request); a fragment has no meaning to a WebSocket (RFC 6455 §3) and is refused.
 */
function parseWebSocket(url: string, scheme: WebSocketScheme, authority: string): WebSocketAddress {
  const end = authority.search(/[/?#]/);
  const hostPort = end >= 0 ? authority.slice(0, end) : authority;
  let path = end >= 0 ? authority.slice(end) : '/';
  if (path.includes('#')) throw new AddressError(url, 'a WebSocket URL has no fragment ("#...")');
  if (path.startsWith('?')) path = `/${path}`;
  if (/[^!-~\u00a0-\uffff]/.test(path))
    throw new AddressError(url, `malformed path "${path}" (spaces and control characters are not allowed)`);
  const { host, port } = parseInet(url, 'tcp', hostPort);
  return { scheme, host, port, path };
}

function parseUnix(url: string, rest: string): UnixAddress {
  let path = rest;
  if (path.startsWith('//')) {
    // unix:///abs/path: an empty authority followed by an absolute path.
    path = path.slice(2);
    if (!path.startsWith('/')) throw new AddressError(url, 'unix:// must be followed by an absolute path');
  }
  if (path.startsWith('@')) {
    const name = path.slice(1);
    if (name === '') throw new AddressError(url, 'empty abstract socket name');
    checkSunPath(url, 'abstract socket name', name);
    return { scheme: 'unix', path: name, abstract: true };
  }
  if (path === '') throw new AddressError(url, 'missing socket path');
  checkSunPath(url, 'socket path', path);
  if (readsAsNumber(path) && Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES - 2) {
    throw new AddressError(
      url,
      `socket path of ${Buffer.byteLength(path)} bytes is over the limit of ${MAX_UNIX_PATH_BYTES - 2} bytes for a name that reads as a number (it is bound as ./${path})`,
    );
  }
  return { scheme: 'unix', path, abstract: false };
}

/** readsAsNumber is true for a path Node's `listen()` would take for a port (`123`, `1e3`, ` 7`), as its `isPipeName` decides. */
function readsAsNumber(path: string): boolean {
  return Number(path) >= 0;
}

/**
 * checkSunPath refuses what the kernel's `sun_path` cannot hold as written. Past the limit, Node
 * cuts the name short without a word, so two names would share one socket. A NUL byte ends a path;
 * in an abstract name it is refused too, because Node pads abstract names with NULs to the full
 * 108 bytes, so `a` and `a\0` would be one name. A lone surrogate has no UTF-8 form (Node would
 * write U+FFFD), so the bound name would not be the one printed.
 */
function checkSunPath(url: string, what: string, text: string): void {
  if (text.includes('\0')) throw new AddressError(url, `${what} contains a NUL byte`);
  const bytes = Buffer.from(text);
  if (bytes.toString() !== text)
    throw new AddressError(url, `${what} is not valid Unicode (a lone surrogate)`);
  if (bytes.length > MAX_UNIX_PATH_BYTES) {
    throw new AddressError(
      url,
      `${what} of ${bytes.length} bytes is over the limit of ${MAX_UNIX_PATH_BYTES} bytes (the kernel's sun_path)`,
    );
  }
}

function parseInet(url: string, scheme: InetScheme, authority: string): InetAddress {
  const slash = authority.indexOf('/');
  if (slash >= 0 && authority.slice(slash) !== '/') {
    throw new AddressError(url, `unexpected path "${authority.slice(slash)}"`);
  }
  const hostPort = slash >= 0 ? authority.slice(0, slash) : authority;
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw new AddressError(url, 'unclosed "[" in IPv6 host');
    host = hostPort.slice(1, close);
    if (isIP(host) !== 6) throw new AddressError(url, `malformed IPv6 host "${host}"`);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':'))
      throw new AddressError(url, `unexpected "${after}" after host`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const last = hostPort.lastIndexOf(':');
    if (last >= 0 && hostPort.indexOf(':') !== last) {
      throw new AddressError(url, 'IPv6 hosts need brackets, as in tcp://[::1]:7');
    }
    host = last >= 0 ? hostPort.slice(0, last) : hostPort;
    portText = last >= 0 ? hostPort.slice(last + 1) : undefined;
    if (host === '') throw new AddressError(url, 'missing host');
    if (isIP(host) === 0 && (!hostnamePattern.test(host) || /^[\d.]+$/.test(host))) {
      throw new AddressError(url, `malformed host "${host}"`);
    }
  }
  if (portText === undefined || portText === '') throw new AddressError(url, 'missing port');
  if (!/^\d+$/.test(portText)) throw new AddressError(url, `malformed port "${portText}"`);
  const port = Number(portText);
  if (port > 65535) throw new AddressError(url, `port ${portText} out of range (0-65535)`);
  return { scheme, host, port };
}

/**
 * formatAddress formats a SocketAddress as the URL that parseAddress reads back to the same
 * value. The one exception is a relative path that starts with `@`, which parseAddress never
 * returns: it is written `unix:./@name`, the same file, so that it does not read as an abstract name.
 */
export function formatAddress(address: SocketAddress): string {
  if (address.scheme === 'unix') return formatUnix(address);
  const path = isWebSocket(address) ? address.path : '';
  return `${address.scheme}://${formatHostPort(address.host, address.port)}${path}`;
}

function formatUnix(address: UnixAddress): string {
  const { path } = address;
  if (address.abstract) return `unix:@${path}`;
  // `unix://` is an empty authority and must be followed by the path: `unix:////a` is the path `//a`.
  if (path.startsWith('//')) return `unix://${path}`;
  if (path.startsWith('@')) return `unix:./${path}`;
  return `unix:${path}`;
}

/** formatHostPort writes `host:port`, bracketing IPv6 literals: `[::1]:7`. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** isInet tells an IP address (tcp, udp, tls) from a Unix or WebSocket one. */
export function isInet(address: SocketAddress): address is InetAddress {
  return address.scheme !== 'unix' && !isWebSocket(address);
}

/** isWebSocket tells a `ws://` or `wss://` address from the others. */
export function isWebSocket(address: SocketAddress): address is WebSocketAddress {
  return address.scheme === 'ws' || address.scheme === 'wss';
}

/**
 * webSocketTransport is the stream address a WebSocket runs over: `tcp://` for `ws://`, `tls://`
 * for `wss://`, same host and port.
 */
export function webSocketTransport(address: WebSocketAddress): InetAddress {
  return { scheme: address.scheme === 'wss' ? 'tls' : 'tcp', host: address.host, port: address.port };
}

/**
 * unixSocketPath gives the path Node's `net` expects: abstract names start with a NUL byte, and a
 * relative path that reads as a number (`unix:123`) is written `./123`, the same file, since
 * Node's `listen()` would take it for a port.
 */
export function unixSocketPath(address: UnixAddress): string {
  if (address.abstract) return `\0${address.path}`;
  return readsAsNumber(address.path) ? `./${address.path}` : address.path;
}
