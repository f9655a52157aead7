/**
 * Who may use the demo page's WebSocket: only the page itself. A browser sends with every
 * WebSocket handshake the Origin of the page that opened it; any site a user visits could open
 * one to a server on loopback, so the server compares that Origin with the address the request
 * was sent to (its Host header) and refuses any other. The Host itself must be an IP literal or
 * `localhost`: a site whose own name was re-pointed at 127.0.0.1 (DNS rebinding) has a matching
 * Origin and Host, but its name is neither.
 */
import { isIP } from 'node:net';

/** Verdict says whether a request may go on, and why not. */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

/** RequestHeaders are the headers the check reads (Node's `IncomingHttpHeaders` is one). */
export interface RequestHeaders {
  readonly host?: string | undefined;
  readonly origin?: string | undefined;
}

/**
 * checkHost accepts a request whose Host header names this server directly: an IP literal or
 * `localhost`, with `port`, the port the server listens on.
 */
export function checkHost(headers: RequestHeaders, port: number): Verdict {
  const host = headers.host;
  if (!host) return { allowed: false, reason: 'no Host header' };
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return { allowed: false, reason: `malformed Host ${JSON.stringify(host)}` };
  }
  // Anything but host[:port] (a path, user info) means the header was not a plain authority.
  const written = host.toLowerCase().replace(/:80$/, '');
  if (url.host !== written || url.username !== '' || url.password !== '') {
    return { allowed: false, reason: `malformed Host ${JSON.stringify(host)}` };
  }
  const name = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(name) === 0 && name !== 'localhost') {
    return { allowed: false, reason: `Host ${JSON.stringify(host)} is a name other than localhost` };
  }
  if (Number(url.port || 80) !== port) {
    return { allowed: false, reason: `Host ${JSON.stringify(host)} names another port` };
  }
  return { allowed: true };
}

/**
 * checkSameOrigin accepts a WebSocket handshake only from the page this server served: a Host
 * that checkHost accepts and an Origin equal to `http://` and that Host. A handshake without an
 * Origin is refused too: every browser sends one, and the page is the only client there is.
 */
export function checkSameOrigin(headers: RequestHeaders, port: number): Verdict {
  const host = checkHost(headers, port);
  if (!host.allowed) return host;
  const origin = headers.origin;
  if (origin === undefined) return { allowed: false, reason: 'no Origin header' };
  const expected = new URL(`http://${headers.host}`).origin;
  if (origin.toLowerCase() !== expected) {
    return { allowed: false, reason: `Origin ${JSON.stringify(origin)} is not this page's (${expected})` };
  }
  return { allowed: true };
}
