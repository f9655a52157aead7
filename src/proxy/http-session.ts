/**
 * The HTTP side of the proxy server: CONNECT (RFC 9110 §9.3.6) opens a tunnel, and a request in
 * absolute form (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2) is forwarded to its origin in
 * origin form, one request per connection. Basic authentication (RFC 7617) via
 * `Proxy-Authorization` when the server has users.
 */
import { parseAddress } from '../address.js';
import { AddressError, fromSystemError } from '../errors.js';
import { decodeHttpRequest, type HttpHeader, type HttpRequestHead, headerValue } from './http-head.js';
import {
  connectUpstream,
  describeConnectFailure,
  destinationLabel,
  type ProxySession,
} from './proxy-session.js';
import { isHostName } from './socks-session.js';

/** Headers meant for this hop only (RFC 9110 §7.6.1), never passed on to the origin. */
const HOP_HEADERS = new Set([
  'proxy-authorization',
  'proxy-connection',
  'connection',
  'keep-alive',
  'te',
  'upgrade',
]);

/** serveHttpProxy runs an HTTP proxy client's session: one CONNECT, or one forwarded request. */
export async function serveHttpProxy(session: ProxySession): Promise<void> {
  session.protocol = 'http';
  const { conn, reader, options } = session;
  let request: HttpRequestHead;
  try {
    request = await reader.read(decodeHttpRequest);
  } catch (err) {
    const failure = fromSystemError('read', '', err);
    if (failure.code === 'ERR_PROTOCOL') await answer(session, 400, 'Bad Request', failure.reason);
    throw err;
  }
  session.handshakeDone();
  if (options.users && options.users.size > 0) {
    const user = options.users.checkBasic(headerValue(request.headers, 'proxy-authorization'));
    if (user === undefined) {
      session.fail('refused: login required or failed');
      return answer(session, 407, 'Proxy Authentication Required', 'a login is required', [
        'Proxy-Authenticate: Basic realm="sockkit proxy", charset="UTF-8"',
      ]);
    }
    session.user = user;
  }
  const destination = destinationOf(request);
  if (typeof destination === 'string') {
    session.fail(`malformed: ${destination}`);
    return answer(session, 400, 'Bad Request', destination);
  }
  const { host, port } = destination;
  session.destination = destinationLabel(host, port);
  session.command = request.method === 'CONNECT' ? 'connect' : 'forward';
  session.note(`http ${request.method} ${session.destination}`);
  let upstream: Awaited<ReturnType<typeof connectUpstream>>;
  try {
    upstream = await connectUpstream(host, port, options);
  } catch (err) {
    session.fail(describeConnectFailure(err));
    const timedOut = fromSystemError('connect', '', err).code === 'ERR_TIMEOUT';
    return answer(
      session,
      timedOut ? 504 : 502,
      timedOut ? 'Gateway Timeout' : 'Bad Gateway',
      describeConnectFailure(err),
    );
  }
  if ('denied' in upstream) {
    session.fail(`refused: ${upstream.denied}`);
    return answer(session, 403, 'Forbidden', 'this destination is not allowed');
  }
  if (request.method === 'CONNECT') {
    conn.socket.write(`${request.version} 200 Connection established\r\n\r\n`);
    session.note(`tunnel to ${session.destination} open`);
    return session.tunnel(upstream.socket);
  }
  // The origin sees an ordinary request, in origin form, that closes after its response.
  upstream.socket.write(originRequest(request, destination.path, session.destination));
  await session.tunnel(upstream.socket);
}

/** destinationOf finds where a request goes, or says in words why it cannot be told. */
function destinationOf(request: HttpRequestHead): { host: string; port: number; path: string } | string {
  if (request.method === 'CONNECT') {
    try {
      const address = parseAddress(`tcp://${request.target}`);
      if (address.scheme !== 'tcp' || address.port === 0) return 'CONNECT needs host:port';
      return { host: address.host, port: address.port, path: '' };
    } catch (err) {
      return err instanceof AddressError ? `CONNECT ${err.reason}` : 'CONNECT needs host:port';
    }
  }
  let url: URL;
  try {
    url = new URL(request.target);
  } catch {
    return request.target.startsWith('/')
      ? 'this is a proxy: ask for an absolute URL (http://host/path) or CONNECT host:port'
      : 'the request target is not a URL';
  }
  if (url.protocol !== 'http:') return `${url.protocol}// is not forwarded: use CONNECT for it`;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || (!isHostName(host) && !/^[\d.:a-f]+$/i.test(host))) return 'a malformed host in the URL';
  return { host, port: url.port === '' ? 80 : Number(url.port), path: `${url.pathname}${url.search}` };
}

/** originRequest rewrites a proxy request for its origin: origin form, no hop-by-hop headers, `Connection: close`. */
function originRequest(request: HttpRequestHead, path: string, authority: string): string {
  const kept: HttpHeader[] = request.headers.filter(([name]) => !HOP_HEADERS.has(name.toLowerCase()));
  if (headerValue(kept, 'host') === undefined) kept.unshift(['Host', authority]);
  const lines = kept.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `${request.method} ${path || '/'} ${request.version}\r\n${lines}Connection: close\r\n\r\n`;
}

/** answer sends a short response of the proxy's own and ends the connection. */
async function answer(
  session: ProxySession,
  status: number,
  reason: string,
  body: string,
  headers: readonly string[] = [],
): Promise<void> {
  const text = `${body}\n`;
  const head = [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
    ...headers,
  ];
  session.conn.socket.write(`${head.join('\r\n')}\r\n\r\n${text}`);
  session.end();
}
