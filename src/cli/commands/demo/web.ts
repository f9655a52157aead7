/**
 * The demo page's server: `GET /` returns the page, `/ws` upgrades to a WebSocket (the `ws`
 * package) on which the page asks for a demo by name and receives its story as it happens: the
 * narration, and every trace event of its sockets, the same events `--trace` prints. Only the
 * page's own origin may open the WebSocket (see same-origin.ts); nothing else runs a demo.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { isSockkitError, type Listener, narrate, type TraceEvent, type Tracer } from '../../../index.js';
import { DEMO_KINDS, defaultTarget, isDemoKind, runDemo } from './demos.js';
import type { Lane, Narration } from './narration.js';
import { DEMO_PAGE, DEMO_PAGE_POLICY } from './page.js';
import { checkHost, checkSameOrigin } from './same-origin.js';

/** The largest message the page sends (a demo's name and the client's message). */
const MAX_REQUEST = 1024;
/** The longest client message the page may ask a demo to send. */
const MAX_MESSAGE = 200;
/** Pages open at once; one more is refused with 503. */
const MAX_PAGES = 8;
/** Demos running at once, over every page (a page that leaves does not stop its demo at once). */
const MAX_RUNNING = 4;
/** Connections at once; past it, new ones are closed on arrival. */
const MAX_CONNECTIONS = 64;
/** The time a connection has to send a whole request, from connecting or from its previous answer. */
const REQUEST_DEADLINE = 10_000;
/** A page that does not read what it is sent past this is dropped. */
const MAX_QUEUED = 1 << 20;
/** Bytes of each send or receive the page gets for its hover dumps. */
const DATA_SHOWN = 256;

/** DemoPage is a running demo page; `close` ends every WebSocket and the HTTP server. */
export interface DemoPage {
  close(): Promise<void>;
}

/** DemoPageOptions tune `serveDemoPage`. */
export interface DemoPageOptions {
  /** Where to tell of refused requests (one line each); nowhere by default. */
  readonly log?: ((line: string) => void) | undefined;
  /** The time a connection has to send a whole request, in ms (from connecting, or from its previous answer). Default 10000. */
  readonly requestDeadline?: number | undefined;
}

/**
 * serveDemoPage serves the demo page on `listener` (bound already, by `listen`). Requests whose
 * Host is not this server's address get 421, WebSocket handshakes from another origin 403; a
 * malformed request from the page is answered with a `refused` message, and never ends the server.
 */
export function serveDemoPage(listener: Listener, options: DemoPageOptions = {}): DemoPage {
  const address = listener.address;
  const port = address.scheme === 'unix' ? 0 : address.port;
  // Node's own request timeouts only run for a server that listen()ed itself; this one is handed
  // its connections, so each gets a deadline here: a request that has not come whole in time (a
  // client that connects and says nothing, or dribbles its headers) is dropped.
  const deadlines = new WeakMap<Duplex, NodeJS.Timeout>();
  const arm = (socket: Duplex): void => {
    clearTimeout(deadlines.get(socket));
    deadlines.set(
      socket,
      setTimeout(() => socket.destroy(), options.requestDeadline ?? REQUEST_DEADLINE),
    );
  };
  const disarm = (socket: Duplex): void => clearTimeout(deadlines.get(socket));
  const http = createServer((request, response) => {
    disarm(request.socket);
    response.once('finish', () => arm(request.socket));
    page(request, response, port);
  });
  for (const server of listener.servers) server.maxConnections = MAX_CONNECTIONS;
  const running = { count: 0 };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST });
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, text: string, reason: string): void => {
      options.log?.(
        `demo page: refused a WebSocket from ${JSON.stringify(request.headers.origin ?? '')}: ${reason}`,
      );
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (pathOf(request) !== '/ws') return refuse(404, 'Not Found', 'not /ws');
    const verdict = checkSameOrigin(request.headers, port);
    if (!verdict.allowed) return refuse(403, 'Forbidden', verdict.reason);
    if (wss.clients.size >= MAX_PAGES) return refuse(503, 'Service Unavailable', 'too many pages open');
    // A page may sit idle as long as its reader likes: the deadline was for the request only.
    disarm(socket);
    wss.handleUpgrade(request, socket, head, (ws) => servePage(ws, running));
  });
  // A malformed request is answered by Node itself (400, with no 'clientError' listener) and
  // closes only that connection.
  listener.handle((conn) => {
    arm(conn.socket);
    conn.socket.once('close', () => disarm(conn.socket));
    http.emit('connection', conn.socket);
  });
  return {
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await listener.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function pathOf(request: IncomingMessage): string | undefined {
  try {
    return new URL(request.url ?? '/', 'http://demo').pathname;
  } catch {
    return undefined;
  }
}

function page(request: IncomingMessage, response: ServerResponse, port: number): void {
  const host = checkHost(request.headers, port);
  if (!host.allowed) {
    response.writeHead(421, { 'content-type': 'text/plain' }).end(`${host.reason}\n`);
    return;
  }
  const path = pathOf(request);
  if (path !== '/' && path !== '/index.html') {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
    return;
  }
  response
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': DEMO_PAGE_POLICY,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    })
    .end(request.method === 'HEAD' ? undefined : DEMO_PAGE);
}

/** servePage runs the demos one page asks for, one at a time, and sends it their stories. */
function servePage(ws: WebSocket, all: { count: number }): void {
  let running = false;
  const send = (message: object): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(message));
    if (ws.bufferedAmount > MAX_QUEUED) ws.terminate();
  };
  // A WebSocket reports a client's protocol errors (a message over maxPayload) as 'error', then closes.
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const request = isBinary ? undefined : parseRequest(data.toString());
    if (typeof request === 'string' || request === undefined) {
      send({ type: 'refused', reason: request ?? 'expected a text message' });
      return;
    }
    if (running) {
      send({ type: 'refused', reason: 'a demo is running; wait for its end' });
      return;
    }
    if (all.count >= MAX_RUNNING) {
      send({ type: 'refused', reason: 'too many demos running; try again in a moment' });
      return;
    }
    running = true;
    all.count += 1;
    send({ type: 'start', kind: request.kind, message: request.message });
    runDemo(defaultTarget(request.kind), request.message, webNarration(send))
      .then(
        (ok) => send({ type: 'end', ok }),
        (err: unknown) =>
          send({ type: 'end', ok: false, error: isSockkitError(err) ? err.message : 'internal error' }),
      )
      .finally(() => {
        running = false;
        all.count -= 1;
      });
  });
}

/** parseRequest reads `{"run": KIND, "message": TEXT}`; a string says what is wrong with it. */
function parseRequest(text: string): { kind: (typeof DEMO_KINDS)[number]; message: string } | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'expected JSON';
  }
  if (typeof value !== 'object' || value === null) return 'expected a JSON object';
  const { run, message = 'Hello, world' } = value as { run?: unknown; message?: unknown };
  if (typeof run !== 'string' || !isDemoKind(run)) return `"run" must be one of ${DEMO_KINDS.join(', ')}`;
  if (typeof message !== 'string' || message.length === 0 || message.length > MAX_MESSAGE) {
    return `"message" must be text of 1 to ${MAX_MESSAGE} characters`;
  }
  return { kind: run, message };
}

/** webNarration sends a demo's story to the page as messages, each trace event with its bytes. */
function webNarration(send: (message: object) => void): Narration {
  const tracer =
    (lane: Lane): Tracer =>
    (event: TraceEvent) => {
      const { data, ...fields } = event;
      send({
        type: 'event',
        lane,
        ...fields,
        text: narrate(event),
        ...(data
          ? {
              data: Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, DATA_SHOWN)).toString(
                'hex',
              ),
            }
          : {}),
      });
    };
  return {
    step: (text) => send({ type: 'step', text }),
    say: (text) => send({ type: 'say', text }),
    conclude: (text) => send({ type: 'conclude', text }),
    tracer,
  };
}
