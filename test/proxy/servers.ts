/**
 * Servers the proxy tests stand up in-process on loopback, port 0: an echo server, a server that
 * speaks first, and sockkit's proxy service with its log events kept.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { InetAddress } from '../../src/address.js';
import { Credentials } from '../../src/proxy/credentials.js';
import { proxyService } from '../../src/proxy/proxy-server.js';
import type { ProxyLogEvent, ProxyServerOptions } from '../../src/proxy/proxy-session.js';
import type { ProxyProtocol, ProxyUrl } from '../../src/proxy/proxy-url.js';
import { listen } from '../../src/stream/listen.js';
import { serve } from '../../src/stream/serve.js';

/** Running is a server started for a test, and how to stop it. */
export interface RunningServer {
  readonly address: InetAddress;
  stop(): Promise<void>;
}

/** startEcho runs a plain Node echo server on 127.0.0.1, port 0, half-close aware. */
export async function startEcho(): Promise<RunningServer> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  return started(server);
}

/** startBanner runs a server that sends `banner` as soon as a client connects, then echoes. */
export async function startBanner(banner: string): Promise<RunningServer> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    socket.write(banner);
    socket.pipe(socket);
  });
  return started(server);
}

async function started(server: Server): Promise<RunningServer> {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: { scheme: 'tcp', host: '127.0.0.1', port },
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

/** RunningProxy is sockkit's proxy service on loopback, the URL clients reach it by, and its log. */
export interface RunningProxy {
  url(protocol?: ProxyProtocol, login?: { username: string; password: string }): ProxyUrl;
  readonly events: ProxyLogEvent[];
  /** nextEvent resolves with the next log event (one per client connection, once it is over). */
  nextEvent(): Promise<ProxyLogEvent>;
  stop(): Promise<void>;
}

/** startProxy runs `proxyService(options)` on 127.0.0.1, port 0; `users` are `[name, password]` pairs. */
export async function startProxy(
  options: Omit<ProxyServerOptions, 'users' | 'report'> & { users?: [string, string][] } = {},
): Promise<RunningProxy> {
  const controller = new AbortController();
  const listener = await listen({ scheme: 'tcp', host: '127.0.0.1', port: 0 }, { signal: controller.signal });
  const events: ProxyLogEvent[] = [];
  const waiting: ((event: ProxyLogEvent) => void)[] = [];
  const service = proxyService({
    ...options,
    users: options.users ? new Credentials(options.users) : undefined,
    report: (event) => {
      const waiter = waiting.shift();
      if (waiter) waiter(event);
      else events.push(event);
    },
  });
  const served = serve([listener], service, { signal: controller.signal, grace: 0 });
  const { port } = listener.address as InetAddress;
  return {
    url: (protocol = 'socks5', login) => ({ protocol, host: '127.0.0.1', port, ...login }),
    events,
    nextEvent: () => {
      const event = events.shift();
      if (event) return Promise.resolve(event);
      return new Promise((resolve) => waiting.push(resolve));
    },
    stop: async () => {
      controller.abort();
      await served;
    },
  };
}
