/**
 * dialPacket makes a connected datagram (UDP) socket, in the spirit of Go's `net.Dial("udp", ...)`:
 * no packet is sent by connecting; the kernel just fixes the peer, so sends need no address, only
 * that peer's datagrams arrive, and an ICMP port unreachable it sends back is reported as
 * "connection refused" on the next read.
 */
import { formatAddress, formatHostPort, type InetAddress, type SocketAddress } from '../address.js';
import { fromSystemError } from '../errors.js';
import { traceStep } from '../internal.js';
import { checkLocalEnd, familyToTry, type LocalEnd } from '../local-end.js';
import { type ResolvedHost, resolveHost } from '../resolve.js';
import { closeOnAbort } from './listen-packet.js';
import { PacketConn } from './packet-conn.js';
import {
  checkPacketOptions,
  type OpenedSocket,
  openPacketSocket,
  type PacketOptions,
  requireUdp,
} from './socket-options.js';

/** DialPacketOptions tune `dialPacket`. */
export interface DialPacketOptions extends PacketOptions, LocalEnd {
  /** Use only IPv4 (4) or only IPv6 (6) addresses of a name. Default: both, or `localAddress`'s family. */
  readonly family?: 4 | 6 | undefined;
}

/**
 * dialPacket connects a new UDP socket to `address` (a `udp://` address) and resolves with its
 * PacketConn. A name connects to its first address; use `resolvePacketTargets` and
 * `dialResolved` to try each in turn. Rejects with a SockkitError (`connect udp://nowhere.invalid:7:
 * host not found`).
 */
export async function dialPacket(
  address: SocketAddress,
  options: DialPacketOptions = {},
): Promise<PacketConn> {
  const [first] = await resolvePacketTargets(address, options);
  return dialResolved(address, first as ResolvedHost, options);
}

/** resolvePacketTargets resolves a `udp://` address's host to every IP a client may try, in order. */
export async function resolvePacketTargets(
  address: SocketAddress,
  options: DialPacketOptions = {},
): Promise<ResolvedHost[]> {
  const url = formatAddress(address);
  requireUdp('connect', address);
  checkPacketOptions('connect', options);
  checkLocalEnd('connect', options, url);
  return resolveHost(address.host, familyToTry(options.family, options)).catch((err: unknown) => {
    throw fromSystemError('connect', url, err);
  });
}

/** dialResolved connects a new UDP socket to `host` (one of `address`'s resolved IPs) at `address`'s port. */
export async function dialResolved(
  address: SocketAddress,
  host: ResolvedHost,
  options: DialPacketOptions = {},
): Promise<PacketConn> {
  const url = formatAddress(address);
  const port = address.scheme === 'unix' ? 0 : address.port;
  const label = formatHostPort(host.ip, port);
  let opened: OpenedSocket | undefined;
  try {
    opened = await openPacketSocket(host.family, options.localAddress, options.localPort ?? 0, options);
    const { socket } = opened;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // Node passes a failed connect (EACCES for a broadcast address without SO_BROADCAST) to
      // this callback instead of emitting 'error', although its type declares no argument.
      const connected = (err?: Error): void => {
        socket.off('error', reject);
        if (err) reject(err);
        else resolve();
      };
      socket.connect(port, host.ip, connected as () => void);
    });
  } catch (err) {
    opened?.socket.close();
    throw fromSystemError('connect', url, err);
  }
  const { socket, kind, socketId } = opened;
  const local = socket.address();
  const localAddress: InetAddress = { scheme: 'udp', host: local.address, port: local.port };
  const remoteAddress: InetAddress = { scheme: 'udp', host: host.ip, port };
  const conn = new PacketConn(socket, { ...options, localAddress, remoteAddress, kind, socketId });
  conn[traceStep]('connected', { address: label, detail: formatHostPort(local.address, local.port) });
  closeOnAbort([conn], options.signal);
  return conn;
}
