/**
 * The chat's web side: an HTTP server that returns the chat page at `/` and upgrades `/chat` to a
 * WebSocket (the `ws` package). Each WebSocket text message is one line, each way, so browser
 * users and `nc` users share rooms through the same Broker under the same limits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Listener } from '../stream/listen.js';
import { formatBytes } from '../units.js';
import type { Broker } from './broker.js';
import type { ChatClient, ChatPeer } from './chat-client.js';
import { type ChatLimits, DEFAULT_MAX_LINE, DEFAULT_MAX_QUEUE } from './line-session.js';
import { CHAT_PAGE } from './web-page.js';

/** Lines read from one WebSocket but not yet handled, before the broker stops reading it. */
const MAX_PENDING_LINES = 64;

/** ChatWeb is a running web front end; `close` ends every WebSocket and the HTTP server. */
export interface ChatWeb {
  close(): Promise<void>;
}

/**
 * serveChatWeb serves the chat page and WebSocket endpoint on `listeners` (already bound, by
 * `listen`, so any stream URL works). A message over `maxLineLength` closes that WebSocket with
 * code 1009; a client whose unsent messages pass `maxQueue` is dropped as too slow.
 */
export function serveChatWeb(
  broker: Broker,
  listeners: readonly Listener[],
  limits: ChatLimits = {},
): ChatWeb {
  const maxLine = limits.maxLineLength ?? DEFAULT_MAX_LINE;
  const maxQueue = limits.maxQueue ?? DEFAULT_MAX_QUEUE;
  const http = createServer(page);
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxLine });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://chat');
    if (url.pathname !== '/chat') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const label = `ws ${request.socket.remoteAddress ?? ''}:${request.socket.remotePort ?? ''}`;
      // serveWebSocket does not reject; the catch is a last line of defence for the process.
      serveWebSocket(broker, ws, label, url.searchParams.get('nick') ?? undefined, maxQueue).catch(() =>
        ws.terminate(),
      );
    });
  });
  for (const listener of listeners) listener.handle((conn) => http.emit('connection', conn.socket));
  return {
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await Promise.all(listeners.map((l) => l.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function page(request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://chat').pathname;
  if (path !== '/' && path !== '/index.html') {
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

async function serveWebSocket(
  broker: Broker,
  ws: WebSocket,
  label: string,
  nick: string | undefined,
  maxQueue: number,
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
      ws.close(1000, farewell?.replace(/^\* /, '').slice(0, 120));
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
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const line of data.toString().split(/\r?\n/)) pending.push(line);
    if (pending.length >= MAX_PENDING_LINES) ws.pause();
    void drain();
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
  void drain();
  await closed;
  await broker.disconnect(client, dropReason ?? reason);
}
