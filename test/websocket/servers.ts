/**
 * What the WebSocket tests share: a sockkit echo server on a free port, a raw TCP exchange for
 * requests no WebSocket client would send, `ws` servers as peers, and wscat as a client.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type WebSocket, WebSocketServer } from 'ws';
import { parseAddress, type WebSocketAddress } from '../../src/address.js';
import type { Listener, ListenOptions } from '../../src/stream/listen.js';
import { echoMessages } from '../../src/websocket/echo-messages.js';
import { listenWebSocket } from '../../src/websocket/listen-websocket.js';
import type { WebSocketConn } from '../../src/websocket/websocket-conn.js';

/** EchoServer is a sockkit WebSocket echo server and the connections it accepted. */
export interface EchoServer {
  readonly listener: Listener<WebSocketConn>;
  readonly address: WebSocketAddress;
  readonly url: string;
  readonly port: number;
  readonly conns: WebSocketConn[];
  /** nextConn resolves with the next connection accepted (or the first not yet asked for). */
  nextConn(): Promise<WebSocketConn>;
  close(): Promise<void>;
}

/** startEcho listens on `url` (a free port on 127.0.0.1 by default) and echoes every message. */
export async function startEcho(
  options: ListenOptions = {},
  url = 'ws://127.0.0.1:0/echo',
): Promise<EchoServer> {
  const listener = await listenWebSocket(parseAddress(url) as WebSocketAddress, options);
  const conns: WebSocketConn[] = [];
  const waiting: ((conn: WebSocketConn) => void)[] = [];
  let taken = 0;
  listener.handle((conn) => {
    conns.push(conn);
    echoMessages(conn);
    const waiter = waiting.shift();
    if (waiter) {
      taken += 1;
      waiter(conn);
    }
  });
  const address = listener.address as WebSocketAddress;
  return {
    listener,
    address,
    url: `ws://127.0.0.1:${address.port}${address.path}`,
    port: address.port,
    conns,
    nextConn: () => {
      const ready = conns[taken];
      if (ready) {
        taken += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    close: async () => {
      await listener.close();
      for (const conn of conns) conn.terminate();
      await Promise.all(conns.map((c) => c.closed));
    },
  };
}

/**
 * rawExchange connects to 127.0.0.1:`port`, writes `request` (and leaves the connection open),
 * and resolves with everything the server sent once it has closed the connection.
 */
export async function rawExchange(port: number, request: string | Buffer): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(request);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** wsServer starts a `ws` server (the package's own) on a free port of 127.0.0.1. */
export async function wsServer(
  options: ConstructorParameters<typeof WebSocketServer>[0] = {},
): Promise<{ server: WebSocketServer; port: number; clients: WebSocket[]; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await once(server, 'listening');
  const clients: WebSocket[] = [];
  server.on('connection', (ws) => clients.push(ws));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    clients,
    close: () =>
      new Promise((resolve) => {
        for (const ws of clients) ws.terminate();
        server.close(() => resolve());
      }),
  };
}

/** WSCAT is wscat's entry point (the npm package, a devDependency): a WebSocket client nobody here wrote. */
export const WSCAT = fileURLToPath(new URL('../../../node_modules/wscat/bin/wscat', import.meta.url));

/**
 * wscat runs `wscat ARGS` with a stdin that stays open (wscat quits when its stdin ends) and
 * resolves with what it printed once it exits (killed after 8 s).
 */
export async function wscat(args: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [WSCAT, '--no-color', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout };
}
