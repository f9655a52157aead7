/**
 * Socket addresses as URLs (see CONVENTIONS.md): `tcp://127.0.0.1:65432`, `udp://[::1]:7`,
 * `tls://localhost:443`, `unix:/tmp/echo.sock`, `unix:@abstract-name`. A URL is parsed once into
 * a typed SocketAddress; everything downstream takes that value and formats it back the same way.
 */
import { isIP } from 'node:net';
import { AddressError } from './errors.js';

/** InetScheme names the transports that run over IP. */
export type InetScheme = 'tcp' | 'udp' | 'tls';
/** Scheme names every transport a socket URL can name. */
export type Scheme = InetScheme | 'unix';

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

/** SocketAddress is any address sockkit can listen on or dial. */
export type SocketAddress = InetAddress | UnixAddress;

const inetSchemes: readonly string[] = ['tcp', 'udp', 'tls'];
const hostnamePattern =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

/**
 * parseAddress parses a socket URL into a SocketAddress.
 * Throws AddressError (code `ERR_INVALID_ADDRESS`, exit 2 in the CLI) naming the offending part:
 * an unknown scheme, a missing or out-of-range port, a malformed host or an empty path.
 */
export function parseAddress(url: string): SocketAddress {
  const colon = url.indexOf(':');
  const schemeText = url.slice(0, Math.max(colon, 0));
  if (colon <= 0 || !/^[a-z][a-z0-9+.-]*$/i.test(schemeText) || /^\d+$/.test(url.slice(colon + 1))) {
    const hint = /^[\w.-]+:\d+$|^\[[^\]]*\]:\d+$/.test(url) ? `; did you mean tcp://${url}?` : '';
    throw new AddressError(url, `missing scheme (expected tcp://, udp://, tls:// or unix:)${hint}`);
  }
  const scheme = url.slice(0, colon).toLowerCase();
  const rest = url.slice(colon + 1);
  if (scheme === 'unix') return parseUnix(url, rest);
  if (!inetSchemes.includes(scheme)) {
    throw new AddressError(url, `unknown scheme "${scheme}" (expected tcp, udp, tls or unix)`);
  }
  if (!rest.startsWith('//')) throw new AddressError(url, `expected "${scheme}://host:port"`);
  return parseInet(url, scheme as InetScheme, rest.slice(2));
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
    return { scheme: 'unix', path: name, abstract: true };
  }
  if (path === '') throw new AddressError(url, 'missing socket path');
  if (path.includes('\0')) throw new AddressError(url, 'socket path contains a NUL byte');
  // sun_path holds 108 bytes including the terminating NUL.
  if (Buffer.byteLength(path) > 107) throw new AddressError(url, 'socket path longer than 107 bytes');
  return { scheme: 'unix', path, abstract: false };
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

/** formatAddress formats a SocketAddress as the URL that parseAddress reads back. */
export function formatAddress(address: SocketAddress): string {
  if (address.scheme === 'unix') return address.abstract ? `unix:@${address.path}` : `unix:${address.path}`;
  return `${address.scheme}://${formatHostPort(address.host, address.port)}`;
}

/** formatHostPort writes `host:port`, bracketing IPv6 literals: `[::1]:7`. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** isInet tells an IP address (tcp, udp, tls) from a Unix one. */
export function isInet(address: SocketAddress): address is InetAddress {
  return address.scheme !== 'unix';
}

/** unixSocketPath gives the path Node's `net` expects: abstract names start with a NUL byte. */
export function unixSocketPath(address: UnixAddress): string {
  return address.abstract ? `\0${address.path}` : address.path;
}
