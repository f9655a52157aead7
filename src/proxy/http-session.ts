/**
 * The HTTP side of the proxy server: CONNECT (RFC 9110 §9.3.6) opens a tunnel, and requests in
 * absolute form (`GET http://host/path HTTP/1.1`, RFC 9112 §3.2.2) are forwarded to their origins
 * (http-forward.ts), as many on one connection as the client sends while both sides keep it open.
 * Basic authentication (RFC 7617) via `Proxy-Authorization`, on every request, when the server
 * has users.
 */
import { parseAddress } from '../address.js';
import { AddressError, fromSystemError } from '../errors.js';
import { isHostName } from './host-name.js';
import { forwardRequest, type OriginTarget } from './http-forward.js';
import { decodeHttpRequest, type HttpRequestHead, headerValue } from './http-head.js';
import { OriginConnections } from './origin-connections.js';
import {
  connectUpstream,
  describeConnectFailure,
  destinationLabel,
  type ProxySession,
} from './proxy-session.js';

/** MAX_NAMED_ORIGINS bounds the origins a log line names for one client connection. */
const MAX_NAMED_ORIGINS = 4;

/**
 * serveHttpProxy runs an HTTP proxy client's session: requests in absolute form, one after the
 * other on the same connection while both sides keep it open, and at most one CONNECT, after
 * which the connection is a tunnel.
 */
export async function serveHttpProxy(session: ProxySession): Promise<void> {
  session.protocol = 'http';
  const origins = new OriginConnections(session);
  try {
    for (let first = true; ; first = false) {
      if (!first) {
        // Keep-alive: the next request may come, within the handshake timeout, or the client may leave.
        session.expectRequest();
        if (!(await session.reader.waitForData())) return session.end();
      }
      const keepAlive = await serveRequest(session, origins);
      if (!keepAlive) return;
    }
  } finally {
    origins.drop();
  }
}

/** serveRequest serves one request; true when the connection may carry another. */
async function serveRequest(session: ProxySession, origins: OriginConnections): Promise<boolean> {
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
      await answer(session, 407, 'Proxy Authentication Required', 'a login is required', [
        'Proxy-Authenticate: Basic realm="sockkit proxy", charset="UTF-8"',
      ]);
      return false;
    }
    session.user = user;
  }
  const destination = destinationOf(request);
  if (typeof destination === 'string') {
    session.fail(`malformed: ${destination}`);
    await answer(session, 400, 'Bad Request', destination);
    return false;
  }
  const { host, port } = destination;
  const label = destinationLabel(host, port);
  session.destination ??= label;
  // The log line names a connection's every origin, up to a few: a client may visit thousands.
  const named = session.destination.split(', ');
  if (!named.includes(label) && !session.destination.endsWith('...'))
    session.destination += named.length < MAX_NAMED_ORIGINS ? `, ${label}` : ', ...';
  session.note(`http ${request.method} ${label}`);
  if (request.method === 'CONNECT') {
    session.command = 'connect';
    origins.drop();
    await openTunnel(session, request, host, port);
    return false;
  }
  session.command = 'forward';
  session.requests += 1;
  const outcome = await forwardRequest(session, request, destination, origins);
  switch (outcome.kind) {
    case 'done':
      if (!outcome.keepAlive) session.end();
      return outcome.keepAlive;
    case 'refusal':
      session.fail(outcome.outcome);
      await answer(session, outcome.status, outcome.reason, outcome.detail);
      return false;
    case 'broken':
      session.fail(outcome.outcome);
      conn.close();
      return false;
  }
}

/** openTunnel answers CONNECT: a tunnel to `host`:`port`, or the proxy's refusal. */
async function openTunnel(
  session: ProxySession,
  request: HttpRequestHead,
  host: string,
  port: number,
): Promise<void> {
  let upstream: Awaited<ReturnType<typeof connectUpstream>>;
  try {
    upstream = await connectUpstream(host, port, session.options);
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
  session.conn.socket.write(`${request.version} 200 Connection established\r\n\r\n`);
  session.note(`tunnel to ${destinationLabel(host, port)} open`);
  return session.tunnel(upstream.socket);
}

/** destinationOf finds where a request goes, or says in words why it cannot be told. */
function destinationOf(request: HttpRequestHead): OriginTarget | string {
  if (request.method === 'CONNECT') {
    try {
      const address = parseAddress(`tcp://${request.target}`);
      if (address.scheme !== 'tcp' || address.port === 0) return 'CONNECT needs host:port';
      return { host: address.host, port: address.port, authority: request.target, path: '' };
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
  // The path goes on as the client wrote it (the URL parser would normalise it), without a fragment.
  const afterAuthority = request.target.replace(/^[a-z]+:\/\/[^/?#]*/i, '').replace(/#.*$/, '');
  const path = afterAuthority.startsWith('/') ? afterAuthority : `/${afterAuthority}`;
  return { host, port: url.port === '' ? 80 : Number(url.port), authority: url.host, path };
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
