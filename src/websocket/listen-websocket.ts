/**
 * listenWebSocket serves WebSocket connections: the stream layer's `listen` binds and accepts
 * (TCP, or TLS for `wss://`), with every ConnectionGuard limit applied to the raw connection
 * before any HTTP is parsed; Node's HTTP parser reads the upgrade request; the `ws` package
 * completes the handshake. What comes out is a Listener of WebSocketConn.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { formatAddress, type InetAddress, type WebSocketAddress, webSocketTransport } from '../address.js';
import { quoteForLog } from '../chat/quote-for-log.js';
import { OriginPolicy } from '../chat/web-origin.js';
import { rewrap } from '../errors.js';
import { deliver, traceStep } from '../internal.js';
import { reportingSafely } from '../security/limit-event.js';
import type { Conn } from '../stream/conn.js';
import { Listener, type ListenOptions, listen } from '../stream/listen.js';
import { formatDuration, MAX_TIMER } from '../units.js';
import {
  connSettings,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_MESSAGE_SIZE,
  WebSocketConn,
} from './websocket-conn.js';

/** DEFAULT_UPGRADE_TIMEOUT is the time a client has to send its upgrade request: 10 s. */
export const DEFAULT_UPGRADE_TIMEOUT = 10_000;

/**
 * listenWebSocket binds `address` and serves the WebSocket endpoint at its path. Each client that
 * completes the handshake becomes a WebSocketConn; refused requests are answered and closed:
 * `404` for another path, `403` for an Origin not allowed (see OriginPolicy: a page's own origin,
 * `allowOrigins`, or no Origin at all), `426` for a plain HTTP request, `400` for a malformed one
 * (`431` for headers over 16 KiB).
 * One client's bad request never affects another. Rejects as `listen` does; throws TypeError for
 * a malformed origin and RangeError for an option out of range.
 */
export async function listenWebSocket(
  address: WebSocketAddress,
  options: ListenOptions = {},
): Promise<Listener<WebSocketConn>> {
  const settings = options.ws ?? {};
  const url = formatAddress(address);
  const origins = new OriginPolicy(settings.allowOrigins);
  const maxMessageSize = settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const upgradeTimeout = settings.upgradeTimeout ?? DEFAULT_UPGRADE_TIMEOUT;
  checkRange('maxMessageSize', maxMessageSize, 1, 1 << 30);
  checkRange('upgradeTimeout', upgradeTimeout, 1, MAX_TIMER);
  for (const key of ['maxBuffered', 'pingInterval', 'pingTimeout', 'closeTimeout'] as const) {
    const value = settings[key];
    if (value !== undefined) checkRange(key, value, key === 'pingInterval' ? 0 : 1, MAX_TIMER);
  }
  const inner = await listen(webSocketTransport(address), options).catch((err: unknown) => {
    throw rewrap(err, 'listen', url);
  });
  const addresses = inner.addresses.map((bound) => ({
    ...address,
    host: (bound as InetAddress).host,
    port: (bound as InetAddress).port,
  }));
  const listener = new Listener<WebSocketConn>(inner.servers, addresses);
  const report = reportingSafely(settings.report ?? (() => {}));
  const wanted = pathOf(address.path);
  const offered = settings.subprotocols ?? [];
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxMessageSize,
    perMessageDeflate: false,
    clientTracking: false,
    closeTimeout: settings.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    handleProtocols: (protocols: Set<string>) => [...protocols].find((p) => offered.includes(p)) ?? false,
  } as ConstructorParameters<typeof WebSocketServer>[0]);
  // Sockets whose upgrade is under way, with the Conn they arrived as (for its trace and id).
  const upgrading = new Map<Duplex, { conn: Conn; timer: NodeJS.Timeout }>();
  const refuse = (socket: Duplex, status: RefusalStatus, why: string): void => {
    const conn = upgrading.get(socket)?.conn;
    conn?.[traceStep]('note', { detail: `upgrade refused: ${status} ${STATUS_TEXT[status]} (${why})` });
    report({ limit: 'handshake-failed', peer: peerOf(conn), detail: `refused: ${why} (HTTP ${status})` });
    answer(socket, status);
  };
  const http = createServer();
  http.on('request', (request, response) => {
    // A plain HTTP request: this endpoint speaks WebSocket only.
    const socket = request.socket;
    refuse(socket, 426, `not a WebSocket upgrade: ${request.method} ${quoteForLog(request.url ?? '')}`);
    response.destroy();
  });
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'HPE_HEADER_OVERFLOW') refuse(socket, 431, 'request headers over 16 KiB');
    else refuse(socket, 400, `malformed HTTP request (${err.code ?? 'parse error'})`);
  });
  // A request ws cannot upgrade (no Sec-WebSocket-Key, an unknown version) is answered here, and reported.
  wss.on('wsClientError', (err: Error, socket: Duplex) => {
    refuse(socket, 400, `not a valid WebSocket handshake: ${printable(err.message)}`);
  });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The last line of defence: whatever goes wrong closes this one socket.
    try {
      const entry = upgrading.get(socket);
      if (!entry) {
        socket.destroy();
        return;
      }
      const { conn } = entry;
      if (conn.tracing) traceRequest(conn, request);
      if (request.headers.upgrade?.toLowerCase() !== 'websocket')
        return refuse(socket, 400, `Upgrade: ${quoteForLog(request.headers.upgrade ?? '')} is not websocket`);
      if (pathOf(request.url ?? '') !== wanted)
        return refuse(socket, 404, `path ${quoteForLog(request.url ?? '')} is not ${wanted}`);
      const verdict = origins.check(request);
      if (!verdict.allowed) return refuse(socket, 403, verdict.reason);
      // ws turns off the socket's timeout; the guard's idle timeout is set again once upgraded.
      const idle = (socket as Socket).timeout;
      const onHeaders = (headers: string[], req: IncomingMessage): void => {
        if (req === request && conn.tracing) traceResponse(conn, headers);
      };
      wss.on('headers', onHeaders);
      try {
        wss.handleUpgrade(request, socket, head, (webSocket) => {
          clearTimeout(entry.timer);
          upgrading.delete(socket);
          if (idle) (socket as Socket).setTimeout(idle);
          const remote = conn.remoteAddress as InetAddress;
          const local = conn.localAddress as InetAddress;
          const ws = new WebSocketConn(webSocket, {
            localAddress: { ...address, host: local.host, port: local.port, path: request.url ?? '/' },
            remoteAddress: { ...address, host: remote.host, port: remote.port, path: request.url ?? '/' },
            socket: conn.socket,
            kind: `${address.scheme === 'wss' ? 'tls' : 'tcp'}${isIP(local.host) === 6 ? 6 : 4}`,
            socketId: conn.socketId,
            trace: conn.tracing ? options.trace : undefined,
            ...connSettings(settings),
            maxMessageSize,
          });
          listener[deliver](ws);
        });
      } finally {
        wss.off('headers', onHeaders);
      }
    } catch (err) {
      upgrading.get(socket)?.conn[traceStep]('error', {
        detail: `the upgrade failed on this connection: ${err instanceof Error ? err.message : String(err)}`,
      });
      socket.destroy();
    }
  });
  inner.handle((conn) => {
    try {
      const timer = setTimeout(() => {
        if (!upgrading.has(conn.socket)) return;
        report({
          limit: 'handshake-timeout',
          peer: peerOf(conn),
          detail: `closed: no WebSocket upgrade within ${formatDuration(upgradeTimeout)}`,
        });
        conn.close();
      }, upgradeTimeout);
      timer.unref();
      upgrading.set(conn.socket, { conn, timer });
      conn.socket.once('close', () => {
        clearTimeout(timer);
        upgrading.delete(conn.socket);
      });
      http.emit('connection', conn.socket);
    } catch {
      conn.close();
    }
  });
  return listener;
}

type RefusalStatus = 400 | 403 | 404 | 426 | 431;

const STATUS_TEXT: Record<RefusalStatus, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  431: 'Request Header Fields Too Large',
};

/** answer writes a short refusal and closes the connection once it is sent. */
function answer(socket: Duplex, status: RefusalStatus): void {
  if (socket.destroyed) return;
  const body = `${STATUS_TEXT[status]}\n`;
  const upgrade = status === 426 ? 'Upgrade: websocket\r\n' : '';
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n${upgrade}Connection: close\r\n` +
      `Content-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
}

/** pathOf is a request target's path without its query (`/chat?x=1` is `/chat`); `''` when it is not a path. */
function pathOf(target: string): string {
  try {
    return new URL(target, 'http://ws').pathname;
  } catch {
    return '';
  }
}

function peerOf(conn: Conn | undefined): string {
  if (!conn) return '';
  const remote = conn.remoteAddress as InetAddress;
  return formatAddress(remote).replace(/^\w+:\/\//, '');
}

function traceRequest(conn: Conn, request: IncomingMessage): void {
  const note = (detail: string): void => conn[traceStep]('note', { detail });
  note(`upgrade request: ${request.method} ${printable(request.url ?? '')} HTTP/${request.httpVersion}`);
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    note(`  ${printable(raw[i] ?? '')}: ${printable(raw[i + 1] ?? '')}`);
}

/** printable is a client's text made safe for a terminal, without the quotes of quoteForLog. */
function printable(text: string): string {
  return quoteForLog(text).slice(1, -1);
}

function traceResponse(conn: Conn, headers: readonly string[]): void {
  const [status = '', ...rest] = headers;
  conn[traceStep]('note', { detail: `upgrade response: ${status.replace(/^HTTP\/1\.1 /, '')}` });
  for (const line of rest) conn[traceStep]('note', { detail: `  ${line}` });
}

function checkRange(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${option} must be a whole number from ${min} to ${max}, not ${value}`);
}
