/**
 * Servers the proxy tests stand up in-process on loopback, port 0: an echo server, a server that
 * speaks first, and sockkit's proxy service with its log events kept.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { InetAddress } from '../../src/address.js';
import { Credentials } from '../../src/proxy/credentials.js';
import { proxyService } from '../../src/proxy/proxy-server.js';
import type { ProxyLogEvent, ProxyServerOptions } from '../../src/proxy/proxy-session.js';
import type { ProxyProtocol, ProxyUrl } from '../../src/proxy/proxy-url.js';
import {
  decodeSocks5Datagram,
  encodeSocks5Datagram,
  type Socks5Datagram,
} from '../../src/proxy/socks5-codec.js';
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

/** RunningUdpEcho is a UDP echo server on 127.0.0.1 and the datagrams it has echoed. */
export interface RunningUdpEcho {
  readonly port: number;
  readonly echoed: number;
  stop(): void;
}

/** startUdpEcho runs a UDP echo server on 127.0.0.1, port 0. */
export async function startUdpEcho(): Promise<RunningUdpEcho> {
  const socket = createSocket('udp4');
  let echoed = 0;
  socket.on('message', (data, from) => {
    echoed += 1;
    socket.send(data, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    get echoed() {
      return echoed;
    },
    stop: () => socket.close(),
  };
}

/** UdpAssociation is a SOCKS5 client's side of UDP ASSOCIATE: its control connection, its UDP socket, the relay's port. */
export interface UdpAssociation {
  readonly control: Socket;
  readonly udp: UdpSocket;
  /** The reply code the proxy gave (0 on success). */
  readonly reply: number;
  readonly relayPort: number;
  /** answers resolves with the next `count` datagrams the relay sends back, unwrapped. */
  answers(count: number): Promise<Socks5Datagram[]>;
  /** send wraps `data` for 127.0.0.1:`port` and sends it to the relay. */
  send(port: number, data: string | Buffer): void;
  close(): void;
}

/** udpAssociate logs into the SOCKS5 proxy at `proxyPort` with no login and asks for UDP ASSOCIATE. */
export async function udpAssociate(proxyPort: number): Promise<UdpAssociation> {
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const control = connect({ host: '127.0.0.1', port: proxyPort });
  control.on('error', () => {});
  await once(control, 'connect');
  const own = udp.address().port;
  control.write(Buffer.from([5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, own >> 8, own & 0xff]));
  let answer = Buffer.alloc(0);
  while (answer.length < 12) {
    const [chunk] = (await Promise.race([once(control, 'data'), once(control, 'close')])) as [Buffer?];
    if (!chunk) break;
    answer = Buffer.concat([answer, chunk]);
  }
  const queue: Socks5Datagram[] = [];
  let wake: (() => void) | undefined;
  udp.on('message', (datagram) => {
    queue.push(decodeSocks5Datagram(datagram));
    wake?.();
  });
  const relayPort = answer.length >= 12 ? answer.readUInt16BE(10) : 0;
  return {
    control,
    udp,
    reply: answer[3] ?? -1,
    relayPort,
    async answers(count) {
      while (queue.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return queue.splice(0, count);
    },
    send(port, data) {
      udp.send(encodeSocks5Datagram('127.0.0.1', port, Buffer.from(data)), relayPort, '127.0.0.1');
    },
    close() {
      control.destroy();
      udp.close();
    },
  };
}
