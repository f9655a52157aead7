/**
 * Test helper: run one simple service in-process on a TCP listener and a UDP socket, both on
 * loopback port 0, and read what a client gets back.
 */
import { connect } from 'node:net';
import { type InetAddress, parseAddress } from '../../src/address.js';
import { listenPacket } from '../../src/datagram/listen-packet.js';
import { type PacketServeSummary, servePackets } from '../../src/datagram/serve-packets.js';
import type { Service } from '../../src/services/index.js';
import { listen } from '../../src/stream/listen.js';
import { type ServeSummary, serve } from '../../src/stream/serve.js';

/** Running is a service on TCP and UDP, and how to stop it. */
export interface Running {
  readonly tcp: InetAddress;
  readonly udp: InetAddress;
  stop(): Promise<[ServeSummary, PacketServeSummary]>;
}

/** serveBoth runs `service` on `tcp://127.0.0.1:0` and `udp://127.0.0.1:0`. */
export async function serveBoth(service: Service, host = '127.0.0.1'): Promise<Running> {
  const controller = new AbortController();
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const listener = await listen(parseAddress(`tcp://${hostPart}:0`), { signal: controller.signal });
  const conn = await listenPacket(parseAddress(`udp://${hostPart}:0`), { signal: controller.signal });
  const streams = serve([listener], service.stream, { signal: controller.signal, grace: 1000 });
  const datagrams = servePackets([conn], service.datagram, { signal: controller.signal });
  return {
    tcp: listener.address as InetAddress,
    udp: conn.localAddress,
    stop: () => {
      controller.abort();
      return Promise.all([streams, datagrams]);
    },
  };
}

/**
 * readAll connects to `address` with a plain `net` socket, sends `input` (then half-closes, unless
 * `keepOpen`), and resolves with every byte received until the server closes.
 */
export function readAll(address: InetAddress, input = '', keepOpen = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('connect', () => {
      if (input) socket.write(input);
      if (!keepOpen) socket.end();
    });
    socket.on('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks));
    });
  });
}
