/**
 * dialWebSocket opens a WebSocket client connection: the TCP (or TLS, for `wss://`) connection is
 * made by the stream layer's `dialSocket`, exactly as `dial` makes it (every address of a name,
 * the same TLS verification), then the `ws` package runs the opening handshake over that socket.
 */
import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import { type ClientOptions, WebSocket } from 'ws';
import { formatAddress, formatHostPort, type WebSocketAddress, webSocketTransport } from '../address.js';
import {
  AbortError,
  ConnectionResetError,
  ProtocolError,
  rewrap,
  type SockkitError,
  TimeoutError,
} from '../errors.js';
import { type DialOptions, dialSocket } from '../stream/dial.js';
import {
  connSettings,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_MAX_MESSAGE_SIZE,
  WebSocketConn,
} from './websocket-conn.js';

/** DEFAULT_WEBSOCKET_TIMEOUT bounds the opening handshake when `timeout` is not given: 10 s. */
export const DEFAULT_WEBSOCKET_TIMEOUT = 10_000;

/**
 * dialWebSocket connects to `address` and runs the opening handshake (RFC 6455 §4.1), and
 * resolves with the WebSocketConn. Rejects as `dial` does for the connection itself (refused,
 * host not found, a TlsError for a certificate refused), and with a ProtocolError when the server
 * answers the upgrade with anything but `101` (`upgrade refused: HTTP 403 Forbidden`) or breaks
 * the handshake, a TimeoutError past `timeout` (default 10 s for the whole), or an AbortError.
 */
export async function dialWebSocket(
  address: WebSocketAddress,
  options: DialOptions = {},
): Promise<WebSocketConn> {
  const url = formatAddress(address);
  const timeout = options.timeout ?? DEFAULT_WEBSOCKET_TIMEOUT;
  const deadline = Date.now() + timeout;
  const settings = options.ws ?? {};
  const dialed = await dialSocket(webSocketTransport(address), { ...options, timeout }).catch(
    (err: unknown) => {
      throw rewrap(err, 'connect', url);
    },
  );
  const { socket, target, kind, socketId, label, describe } = dialed;
  const trace = options.trace;
  const note = (detail: string): void => trace?.({ step: 'note', socketId, kind, detail });
  trace?.({ step: 'connected', socketId, kind, address: label, detail: localLabel(socket) });
  if (describe && trace) note(describe());
  const maxMessageSize = settings.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  const headers = Object.fromEntries((settings.headers ?? []).map(([name, value]) => [name, value]));
  const webSocket = new WebSocket(url, [...(settings.subprotocols ?? [])], {
    // The socket is already connected (and TLS verified): ws writes its request on it.
    createConnection: ((request: ClientRequestArgs) => {
      if (trace) traceRequest(note, address, request);
      return socket;
    }) as ClientOptions['createConnection'],
    headers,
    origin: settings.origin,
    maxPayload: maxMessageSize,
    // Compression is off: it costs memory per connection and opens the door to compression bombs.
    perMessageDeflate: false,
    followRedirects: false,
    // ws's own wait for the peer's close frame (its typings lack the option); `close` has its own too.
    closeTimeout: settings.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
  } as ClientOptions);
  const remote = { ...address, host: 'host' in target ? target.host : address.host };
  const local = { ...address, host: socket.localAddress ?? '', port: socket.localPort ?? 0 };
  // The WebSocketConn is made in the 'open' event itself: a server that speaks first (or closes
  // at once) may have its messages read before a promise's continuation would run.
  const wrap = (): WebSocketConn => {
    if (trace) socket.once('close', () => trace({ step: 'closed', socketId, kind }));
    return new WebSocketConn(webSocket, {
      localAddress: local,
      remoteAddress: remote,
      socket,
      kind,
      socketId,
      trace,
      ...connSettings(settings),
      maxMessageSize,
    });
  };
  return opened(webSocket, url, deadline, options.signal, trace ? note : undefined, wrap).catch(
    (err: unknown) => {
      webSocket.terminate();
      socket.destroy();
      throw err;
    },
  );
}

/**
 * opened resolves, once the handshake is done, with what `wrap` makes of the open WebSocket (in
 * the 'open' event, before any message can be read), or rejects with the SockkitError that says
 * why not. Every listener it added is removed either way.
 */
function opened(
  webSocket: WebSocket,
  url: string,
  deadline: number,
  signal: AbortSignal | undefined,
  note: ((detail: string) => void) | undefined,
  wrap: () => WebSocketConn,
): Promise<WebSocketConn> {
  return new Promise((resolve, reject) => {
    const settle = (err?: SockkitError): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      webSocket.off('open', onOpen);
      webSocket.off('error', onError);
      webSocket.off('unexpected-response', onRefused);
      webSocket.off('upgrade', onUpgrade);
      // A late error of a socket given up must not reach the process.
      if (err) {
        webSocket.on('error', () => {});
        reject(err);
      } else resolve(wrap());
    };
    const onOpen = (): void => settle();
    const onUpgrade = (response: IncomingMessage): void => note && traceResponse(note, response);
    const onError = (err: NodeJS.ErrnoException): void =>
      settle(
        err.code === 'ECONNRESET' || err.code === 'EPIPE'
          ? new ConnectionResetError(
              'connect',
              url,
              'the server closed the connection before answering the upgrade',
            )
          : new ProtocolError('connect', url, `the WebSocket handshake failed: ${handshakeReason(err)}`),
      );
    const onRefused = (request: { destroy(): void }, response: IncomingMessage): void => {
      if (note) traceResponse(note, response);
      request.destroy();
      settle(
        new ProtocolError(
          'connect',
          url,
          `upgrade refused: HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trimEnd(),
        ),
      );
    };
    const onAbort = (): void => settle(new AbortError('connect', url));
    const timer = setTimeout(
      () => settle(new TimeoutError('connect', url, 'the WebSocket handshake timed out')),
      Math.max(0, deadline - Date.now()),
    );
    webSocket.once('open', onOpen);
    webSocket.once('error', onError);
    webSocket.once('unexpected-response', onRefused);
    webSocket.once('upgrade', onUpgrade);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** handshakeReason words ws's handshake failures (a wrong accept key, a subprotocol not offered) without its internals. */
function handshakeReason(err: Error): string {
  const text = err.message;
  if (/Sec-WebSocket-Accept/i.test(text)) return 'the server sent a wrong Sec-WebSocket-Accept';
  if (/no subprotocol/i.test(text)) return 'the server accepted none of the subprotocols offered';
  if (/subprotocol/i.test(text)) return 'the server chose a subprotocol that was not offered';
  if (/Parse Error|HPE_/i.test(text)) return 'the server did not answer with HTTP';
  return text;
}

/** traceRequest narrates the upgrade request line and headers (Node adds `Host` itself). */
function traceRequest(
  note: (detail: string) => void,
  address: WebSocketAddress,
  request: ClientRequestArgs,
): void {
  note(`upgrade request: GET ${address.path} HTTP/1.1`);
  note(`  Host: ${formatHostPort(address.host, address.port)}`);
  for (const [name, value] of Object.entries(request.headers ?? {})) note(`  ${name}: ${String(value)}`);
}

/** traceResponse narrates the upgrade response's status line and headers. */
function traceResponse(note: (detail: string) => void, response: IncomingMessage): void {
  note(`upgrade response: ${response.statusCode} ${response.statusMessage ?? ''}`.trimEnd());
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) note(`  ${raw[i]}: ${raw[i + 1]}`);
}

function localLabel(socket: { localAddress?: string | undefined; localPort?: number | undefined }): string {
  return socket.localAddress ? formatHostPort(socket.localAddress, socket.localPort ?? 0) : '';
}
