/**
 * Proxy addresses as URLs (CONVENTIONS.md, "Proxies"): `socks5://[user:pass@]host:port`,
 * `socks4a://host:port`, `http://[user:pass@]host:port`. Parsed once into a ProxyUrl; messages
 * write it back with `formatProxyUrl`, which never shows the password.
 */
import { formatHostPort, parseAddress } from '../address.js';
import { AddressError } from '../errors.js';

/** ProxyProtocol names the proxy protocols sockkit speaks, as client and as server. */
export type ProxyProtocol = 'socks5' | 'socks4a' | 'http';

/** PROXY_PROTOCOLS lists them, in the order help texts name them. */
export const PROXY_PROTOCOLS: readonly ProxyProtocol[] = ['socks5', 'socks4a', 'http'];

/** ProxyUrl is one proxy: its protocol, where it listens, and the login it wants, if any. */
export interface ProxyUrl {
  readonly protocol: ProxyProtocol;
  /** A name or an IP literal, without brackets. */
  readonly host: string;
  readonly port: number;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/**
 * parseProxyUrl parses a proxy URL. Throws AddressError naming the offending part: an unknown
 * scheme, a malformed host or port, a login on socks4a:// (it has none), a path. Port 0 parses
 * (a server listens on any free port); a client cannot connect to it.
 */
export function parseProxyUrl(url: string): ProxyUrl {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?(.*)$/i.exec(url);
  if (!match)
    throw new AddressError(url, 'expected socks5://host:port, socks4a://host:port or http://host:port');
  const protocol = (match[1] as string).toLowerCase();
  if (!(PROXY_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new AddressError(url, `unknown proxy scheme "${protocol}" (expected socks5, socks4a or http)`);
  }
  const login = match[2];
  // The host and port follow the socket URL grammar: reuse its parser and its messages.
  let hostPort: { host: string; port: number };
  try {
    const { host, port } = parseAddress(`tcp://${match[3] as string}`) as { host: string; port: number };
    hostPort = { host, port };
  } catch (err) {
    const reason = err instanceof AddressError ? err.reason : String(err);
    throw new AddressError(url, reason);
  }
  if (login === undefined) return { protocol: protocol as ProxyProtocol, ...hostPort };
  if (protocol === 'socks4a')
    throw new AddressError(url, 'socks4a:// has no password: drop the "user:pass@"');
  const colon = login.indexOf(':');
  const username = decode(url, colon < 0 ? login : login.slice(0, colon));
  const password = colon < 0 ? '' : decode(url, login.slice(colon + 1));
  if (username === '') throw new AddressError(url, 'empty user name before "@"');
  // RFC 1929 carries each in one length byte.
  if (protocol === 'socks5' && (Buffer.byteLength(username) > 255 || Buffer.byteLength(password) > 255)) {
    throw new AddressError(url, 'a SOCKS5 user name and password are at most 255 bytes each');
  }
  return { protocol: protocol as ProxyProtocol, ...hostPort, username, password };
}

function decode(url: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AddressError(url, 'malformed %-escape in the user name or password');
  }
}

/** formatProxyUrl writes a proxy as messages name it: `socks5://alice@127.0.0.1:1080`, never with the password. */
export function formatProxyUrl(proxy: ProxyUrl): string {
  const user = proxy.username === undefined ? '' : `${encodeURIComponent(proxy.username)}@`;
  return `${proxy.protocol}://${user}${formatHostPort(proxy.host, proxy.port)}`;
}
