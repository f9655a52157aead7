/**
 * The chat's web side: an HTTP server that returns the chat page at `/` and upgrades `/chat` to a
 * WebSocket (the `ws` package). Each WebSocket text message is one line, each way, so browser
 * users and `nc` users share rooms through the same Broker under the same limits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { formatHostPort } from '../address.js';
import type { Listener } from '../stream/listen.js';
import { formatBytes } from '../units.js';
import type { Broker } from './broker.js';
import type { ChatClient, ChatPeer } from './chat-client.js';
import { type ChatLimits, DEFAULT_MAX_LINE, DEFAULT_MAX_QUEUE } from './line-session.js';
import { quoteForLog } from './quote-for-log.js';
import { OriginPolicy } from './web-origin.js';
import { CHAT_PAGE } from './web-page.js';

/** Lines read from one WebSocket but not yet handled, before the broker stops reading it. */
const MAX_PENDING_LINES = 64;

/** DEFAULT_REQUEST_TIMEOUT is the time a web client has to send a request and take its answer: 10 s. */
export const DEFAULT_REQUEST_TIMEOUT = 10_000;

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days); longer fires at once. */
const MAX_TIMER = 2_147_483_647;

/** ChatWebOptions tune serveChatWeb: the per-connection limits, and what only the web side has. */
export interface ChatWebOptions extends ChatLimits {
  /**
   * Origins whose pages may open the WebSocket besides the page's own (`https://host[:port]`),
   * or `*` for any page. See OriginPolicy for the default. Default none.
   */
  readonly allowOrigins?: readonly string[] | undefined;
  /**
   * The time an HTTP client has, from connecting or from the end of its previous answer, to send
   * a request's headers and take the answer; then its connection is closed (with `408` when no
   * answer was under way). A WebSocket is not bound by it once upgraded. Default 10 s.
   */
  readonly requestTimeout?: number | undefined;
  /** Receives one line for each WebSocket refused and each request a handler failed on. */
  readonly log?: ((line: string) => void) | undefined;
}

/** ChatWeb is a running web front end; `close` ends every WebSocket and HTTP connection. */
export interface ChatWeb {
  close(): Promise<void>;
}

/**
 * serveChatWeb serves the chat page and WebSocket endpoint on `listeners` (already bound, by
 * `listen`, so any stream URL works). A message over `maxLineLength` closes that WebSocket with
 * code 1009; a client whose unsent messages pass `maxQueue` is dropped as too slow. A request
 * that cannot be parsed gets `400`, a WebSocket from a page of another origin `403` (see
 * OriginPolicy); a failure in a handler closes that one connection. Throws TypeError or
 * RangeError for bad options.
 */
export function serveChatWeb(
  broker: Broker,
  listeners: readonly Listener[],
  options: ChatWebOptions = {},
): ChatWeb {
  const maxLine = options.maxLineLength ?? DEFAULT_MAX_LINE;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const requestTimeout = options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT;
  if (!Number.isInteger(requestTimeout) || requestTimeout < 1 || requestTimeout > MAX_TIMER) {
    throw new RangeError(
      `requestTimeout must be an integer from 1 to ${MAX_TIMER} ms (got ${requestTimeout})`,
    );
  }
  const origins = new OriginPolicy(options.allowOrigins);
  const log = options.log;
  /** failed is the last line of defence: one line in the log, and only this connection closed. */
  const failed = (socket: Duplex, what: string, err: unknown): void => {
    log?.(`web ${peerOf(socket)}: ${what} failed: ${quoteForLog(reasonOf(err))}; connection closed`);
    socket.destroy();
  };
  const deadlines = new RequestDeadlines(requestTimeout);
  const http = createServer((request, response) => {
    try {
      deadlines.requestStarted(request.socket, response);
      page(request, response);
    } catch (err) {
      failed(request.socket, 'request', err);
    }
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxLine });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      deadlines.release(socket);
      const target = requestTarget(request);
      if (!target) return refuse(socket, 400, 'malformed request target');
      if (target.pathname !== '/chat') return refuse(socket, 404, 'not found');
      const label = `ws ${peerOf(socket)}`;
      const verdict = origins.check(request);
      if (!verdict.allowed) {
        log?.(`${label} refused: ${verdict.reason}`);
        return refuse(socket, 403, 'origin not allowed');
      }
      const nick = target.searchParams.get('nick') ?? undefined;
      wss.handleUpgrade(request, socket, head, (ws) => {
        const fail = (err: unknown): void => {
          failed(socket, 'WebSocket', err);
          ws.terminate();
        };
        serveWebSocket(broker, ws, { label, nick, maxQueue, fail }).catch(fail);
      });
    } catch (err) {
      failed(socket, 'upgrade', err);
    }
  });
  for (const listener of listeners) {
    listener.handle((conn) => {
      try {
        deadlines.connected(conn.socket);
        http.emit('connection', conn.socket);
      } catch (err) {
        failed(conn.socket, 'connection', err);
      }
    });
  }
  return {
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await Promise.all(listeners.map((l) => l.close()));
      // The HTTP server never listened (connections are handed to it), so its own
      // closeAllConnections knows none of them: the deadlines' list does.
      deadlines.closeAll();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * RequestDeadlines bounds each HTTP connection's wait for a request. An HTTP server that is handed
 * connections (`emit('connection')`) instead of listening never starts the checks behind its
 * `headersTimeout` and `requestTimeout`, so a client that never finished its headers held its
 * connection forever. Here every connection has a deadline from the moment it opens or its last
 * answer ends, cleared once an answer is complete or the connection becomes a WebSocket.
 */
class RequestDeadlines {
  readonly #timeout: number;
  /** Connections still speaking HTTP, with their timer (none while an answer is under way). */
  readonly #open = new Map<Duplex, DeadlineState>();

  constructor(timeout: number) {
    this.#timeout = timeout;
  }

  /** connected starts watching a new connection. */
  connected(socket: Duplex): void {
    if (socket.destroyed) return;
    const state: DeadlineState = { timer: undefined, answering: 0 };
    this.#open.set(socket, state);
    this.#arm(socket, state);
    socket.once('close', () => this.release(socket));
  }

  /**
   * requestStarted notes a request whose headers arrived. The deadline keeps running until the
   * answer is sent: a client that does not read it cannot hold the connection either.
   */
  requestStarted(socket: Duplex, response: ServerResponse): void {
    const state = this.#open.get(socket);
    if (!state) return;
    state.answering += 1;
    response.once('close', () => {
      state.answering -= 1;
      if (state.answering === 0) this.#arm(socket, state);
    });
  }

  /** release stops watching a connection: it closed, or became a WebSocket with its own lifetime. */
  release(socket: Duplex): void {
    clearTimeout(this.#open.get(socket)?.timer);
    this.#open.delete(socket);
  }

  /** closeAll closes every connection still speaking HTTP. */
  closeAll(): void {
    for (const socket of this.#open.keys()) socket.destroy();
  }

  /** arm (re)starts the deadline of a connection that is still this tracker's to watch. */
  #arm(socket: Duplex, state: DeadlineState): void {
    clearTimeout(state.timer);
    state.timer = undefined;
    if (this.#open.get(socket) !== state || socket.destroyed) return;
    state.timer = setTimeout(() => {
      // A client still sending its request is told why; one not reading its answer just goes.
      if (state.answering === 0 && socket.writable) {
        socket.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      }
      socket.destroy();
    }, this.#timeout);
    state.timer.unref();
  }
}

interface DeadlineState {
  timer: NodeJS.Timeout | undefined;
  /** Requests whose answer is not yet fully sent. */
  answering: number;
}

function page(request: IncomingMessage, response: ServerResponse): void {
  const target = requestTarget(request);
  if (!target) {
    response
      .writeHead(400, { 'content-type': 'text/plain', connection: 'close' })
      .end('malformed request target\n');
    return;
  }
  if (target.pathname !== '/' && target.pathname !== '/index.html') {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  response
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    })
    .end(CHAT_PAGE);
}

/**
 * requestTarget parses a request's target (origin-form `/chat?nick=x`, or the absolute-form
 * `http://host/chat` a server must also accept, RFC 9112 §3.2.2); undefined when it is not a URL
 * (`http://[/`, a port over 65535): a client's mistake, answered with 400.
 */
function requestTarget(request: IncomingMessage): URL | undefined {
  try {
    return new URL(request.url ?? '/', 'http://chat');
  } catch {
    return undefined;
  }
}

/** refuse answers an upgrade request with `status` and closes the connection once that is sent. */
function refuse(socket: Duplex, status: 400 | 403 | 404, text: string): void {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' }[status];
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${text.length + 1}\r\n\r\n${text}\n`,
  );
}

/** peerOf names a web client for log lines: `127.0.0.1:53122`, `[::1]:53122`, `unix peer`. */
function peerOf(socket: Duplex): string {
  const { remoteAddress, remotePort } = socket as Socket;
  return remoteAddress ? formatHostPort(remoteAddress, remotePort ?? 0) : 'unix peer';
}

/** WebSocketSession is what serveWebSocket needs to know of one client besides its socket. */
interface WebSocketSession {
  readonly label: string;
  readonly nick: string | undefined;
  readonly maxQueue: number;
  /** fail is the last line of defence, for failures outside serveWebSocket's own promise. */
  readonly fail: (err: unknown) => void;
}

async function serveWebSocket(
  broker: Broker,
  ws: WebSocket,
  { label, nick, maxQueue, fail }: WebSocketSession,
): Promise<void> {
  let dropReason: string | undefined;
  const peer: ChatPeer = {
    label,
    send(line) {
      if (dropReason || ws.readyState !== ws.OPEN) return;
      ws.send(line);
      if (ws.bufferedAmount > maxQueue) {
        dropReason = `too slow: ${formatBytes(ws.bufferedAmount)} queued for it`;
        ws.terminate();
      }
    },
    close(farewell) {
      if (farewell && ws.readyState === ws.OPEN) ws.send(farewell);
      ws.close(1000, closeReason(farewell?.replace(/^\* /, '') ?? ''));
    },
  };
  // Lines are handled one at a time, in order, each after its flood-control delay. While too many
  // wait, the socket is paused: TCP then slows the sender, as for a line client. Lines that
  // arrive while the client is being admitted wait in the same queue.
  const pending: string[] = [];
  let draining = false;
  let client: ChatClient | undefined;
  const drain = async (): Promise<void> => {
    if (draining || !client) return;
    draining = true;
    for (let line = pending.shift(); line !== undefined; line = pending.shift()) {
      if (pending.length < MAX_PENDING_LINES / 2) ws.resume();
      await client.flood.wait();
      if ((await broker.handle(client, line)) === 'quit') ws.close(1000, 'bye');
    }
    draining = false;
  };
  // drain runs outside this function's promise, started by socket events: it has its own catch.
  const startDrain = (): void => void drain().catch(fail);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const line of data.toString().split(/\r?\n/)) pending.push(line);
    if (pending.length >= MAX_PENDING_LINES) ws.pause();
    startDrain();
  });
  let reason = 'connection closed';
  // A WebSocket reports a client's protocol errors (a message over maxPayload: 1009) as 'error'
  // events, then closes: handled here, so one client's bad frame never reaches the process.
  ws.on('error', (err: Error & { code?: string }) => {
    reason = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'line too long' : err.message;
  });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  client = await broker.connect(peer, nick);
  if (!client) return;
  startDrain();
  await closed;
  await broker.disconnect(client, dropReason ?? reason);
}

/**
 * closeReason cuts `text` to what a WebSocket close frame carries (123 bytes of UTF-8, RFC 6455
 * §5.5: ws throws beyond), on a character boundary.
 */
function closeReason(text: string): string {
  const chars = [...text].slice(0, 123);
  while (Buffer.byteLength(chars.join('')) > 123) chars.pop();
  return chars.join('');
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
