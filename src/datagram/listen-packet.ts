/**
 * listenPacket binds a datagram (UDP) socket, in the spirit of Go's `net.ListenPacket`: create and
 * bind; there is no listen or accept, because datagrams from any peer arrive on the one socket.
 */
import { formatAddress, type InetAddress, type SocketAddress } from '../address.js';
import { fromSystemError } from '../errors.js';
import { resolveHost } from '../resolve.js';
import { PacketConn } from './packet-conn.js';
import { checkPacketOptions, openPacketSocket, type PacketOptions, requireUdp } from './socket-options.js';

/**
 * listenPacket binds `address` (a `udp://` address) and resolves with its PacketConn, the port
 * filled in when 0 was asked. A name binds the first address it resolves to; `listenPackets` binds
 * them all. Rejects with a SockkitError such as `listen udp://127.0.0.1:53: permission denied` or
 * `... address already in use`; throws UsageError for options that cannot work (see PacketOptions).
 */
export async function listenPacket(address: SocketAddress, options: PacketOptions = {}): Promise<PacketConn> {
  const [conn] = await bindAll(address, options, false);
  return conn as PacketConn;
}

/**
 * listenPackets binds every address `address` resolves to, all on one port (the first bind picks it
 * when port 0 was asked), as a server does with a name such as `udp://localhost:7`.
 */
export function listenPackets(address: SocketAddress, options: PacketOptions = {}): Promise<PacketConn[]> {
  return bindAll(address, options, true);
}

async function bindAll(address: SocketAddress, options: PacketOptions, all: boolean): Promise<PacketConn[]> {
  const url = formatAddress(address);
  requireUdp('listen', address);
  checkPacketOptions('listen', options);
  const conns: PacketConn[] = [];
  try {
    const hosts = await resolveHost(address.host);
    let port = address.port;
    for (const host of all ? hosts : hosts.slice(0, 1)) {
      const opened = await openPacketSocket(host.family, host.ip, port, options);
      port = opened.port;
      const localAddress: InetAddress = { scheme: 'udp', host: host.ip, port };
      conns.push(
        new PacketConn(opened.socket, {
          ...options,
          localAddress,
          kind: opened.kind,
          socketId: opened.socketId,
        }),
      );
    }
  } catch (err) {
    await Promise.all(conns.map((c) => c.close()));
    throw fromSystemError('listen', url, err);
  }
  closeOnAbort(conns, options.signal);
  return conns;
}

/** closeOnAbort closes `conns` when `signal` aborts (at once if it already has). */
export function closeOnAbort(conns: readonly PacketConn[], signal: AbortSignal | undefined): void {
  if (!signal) return;
  const close = (): void => {
    for (const conn of conns) void conn.close();
  };
  if (signal.aborted) close();
  else signal.addEventListener('abort', close, { once: true });
}
