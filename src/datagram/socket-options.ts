/**
 * Options every datagram socket takes, and the code that creates, binds and configures one:
 * broadcast, multicast group membership, TTL and loopback. Shared by `listenPacket` and `dialPacket`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { formatAddress, formatHostPort, type InetAddress, type SocketAddress } from '../address.js';
import type { PacketTapFactory } from '../capture/tap.js';
import { optionError, SchemeError } from '../errors.js';
import { nextSocketId, type SocketKind, type Tracer } from '../trace.js';

/** PacketOptions tune a datagram socket. Every field is optional. */
export interface PacketOptions {
  /** Aborting it closes the socket. */
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** Keep `udp://[::]:PORT` to IPv6 instead of dual-stack. */
  readonly ipv6Only?: boolean | undefined;
  /** SO_REUSEADDR, so several sockets can bind one port (on by default when joining a group). */
  readonly reuseAddress?: boolean | undefined;
  /** SO_BROADCAST: allow sending to a broadcast address such as 255.255.255.255 or 192.0.2.255. */
  readonly broadcast?: boolean | undefined;
  /** Multicast groups to join (224.0.0.0/4 or ff00::/8), so datagrams sent to them arrive here. */
  readonly join?: readonly string[] | undefined;
  /** The local interface address to join groups and send multicast on; the kernel's choice by default. */
  readonly multicastInterface?: string | undefined;
  /**
   * Hops a unicast (or broadcast) datagram may take: IP_TTL, or IPV6_UNICAST_HOPS on an IPv6
   * socket, 1 to 255. The kernel's default is net.ipv4.ip_default_ttl (64).
   */
  readonly ttl?: number | undefined;
  /** Hops a multicast datagram may take (IP_MULTICAST_TTL). The kernel's default is 1: this link only. */
  readonly multicastTtl?: number | undefined;
  /** Whether this host's own sockets receive the multicast datagrams it sends. The kernel's default is yes. */
  readonly multicastLoopback?: boolean | undefined;
  /**
   * SO_RCVBUF in bytes: what the kernel holds for this socket before it drops arrivals. The default
   * (net.core.rmem_default, often 208 KiB) holds only three 64 KiB datagrams; Linux doubles the value
   * asked and caps it at net.core.rmem_max.
   */
  readonly receiveBufferSize?: number | undefined;
  /** SO_SNDBUF in bytes (Linux doubles it and caps it at net.core.wmem_max). */
  readonly sendBufferSize?: number | undefined;
  /** Datagrams held for a reader that has not caught up, before new ones are dropped. Default 4096. */
  readonly queueLimit?: number | undefined;
  /** Sends the kernel has not taken yet, before new ones are dropped. Default 1024. */
  readonly sendQueueLimit?: number | undefined;
  /** Asked for a tap that sees every datagram both ways (see Capture); none by default. */
  readonly tap?: PacketTapFactory | undefined;
}

/** isMulticast tells whether `ip` is a multicast address: 224.0.0.0/4 or ff00::/8. */
export function isMulticast(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) {
    const first = Number(ip.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return family === 6 && /^ff/i.test(ip);
}

/**
 * checkPacketOptions throws UsageError for options that cannot work, before any socket exists: a
 * group that is not a multicast address, a TTL outside 0-255.
 */
export function checkPacketOptions(op: string, options: PacketOptions): void {
  for (const group of options.join ?? []) {
    if (!isMulticast(group)) {
      throw optionError(op, 'join', `${group}: not a multicast group (224.0.0.0/4 or ff00::/8)`);
    }
  }
  const ttl = options.multicastTtl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0 || ttl > 255)) {
    throw optionError(op, 'multicastTtl', `${ttl}: expected a whole number from 0 to 255`);
  }
  const unicastTtl = options.ttl;
  if (unicastTtl !== undefined && (!Number.isInteger(unicastTtl) || unicastTtl < 1 || unicastTtl > 255)) {
    throw optionError(op, 'ttl', `${unicastTtl}: expected a whole number from 1 to 255`);
  }
}

/** requireUdp throws SchemeError (`listen tcp://...: tcp:// is not supported here (expected udp://)`) unless `address` is `udp://`. */
export function requireUdp(op: string, address: SocketAddress): asserts address is InetAddress {
  if (address.scheme !== 'udp') throw new SchemeError(op, formatAddress(address), address.scheme, ['udp']);
}

/** OpenedSocket is a bound, configured datagram socket and the identity its trace events carry. */
export interface OpenedSocket {
  readonly socket: Socket;
  readonly socketId: number;
  /** `udp4` or `udp6`. */
  readonly kind: SocketKind;
  /** The port bound, the kernel's choice when 0 was asked. */
  readonly port: number;
}

/**
 * openPacketSocket runs the datagram workflow up to the point where data can flow: create a socket
 * of `family`, bind it to `host:port` (every local address when `host` is undefined; any free port
 * for 0), and apply the options that need a bound socket, narrating each step. On failure the
 * socket is closed and the system's error thrown, for the caller to word under its operation.
 */
export async function openPacketSocket(
  family: 4 | 6,
  host: string | undefined,
  port: number,
  options: PacketOptions,
): Promise<OpenedSocket> {
  const kind: SocketKind = `udp${family}`;
  const socketId = nextSocketId();
  options.trace?.({ step: 'created', socketId, kind });
  const socket = createPacketSocket(family, options);
  try {
    await bindSocket(socket, host, port);
    const bound = socket.address();
    const notes = configureSocket(socket, options);
    options.trace?.({ step: 'bound', socketId, kind, address: formatHostPort(bound.address, bound.port) });
    for (const detail of notes) options.trace?.({ step: 'note', socketId, kind, detail });
    return { socket, socketId, kind, port: bound.port };
  } catch (err) {
    socket.close();
    throw err;
  }
}

/** createPacketSocket creates an unbound dgram socket of `family` with the options that must precede bind. */
export function createPacketSocket(family: 4 | 6, options: PacketOptions): Socket {
  return createSocket({
    type: family === 4 ? 'udp4' : 'udp6',
    reuseAddr: options.reuseAddress ?? (options.join?.length ?? 0) > 0,
    ipv6Only: options.ipv6Only ?? false,
    ...(options.receiveBufferSize === undefined ? {} : { recvBufferSize: options.receiveBufferSize }),
    ...(options.sendBufferSize === undefined ? {} : { sendBufferSize: options.sendBufferSize }),
  });
}

/** bindSocket binds `socket` to `host:port` (port 0: any free one) and resolves once bound. */
export function bindSocket(socket: Socket, host: string | undefined, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, ...(host ? { address: host } : {}) }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/**
 * configureSocket applies the options that need a bound socket: TTL, broadcast, multicast TTL,
 * loopback, interface and group membership. It throws the system's error (EINVAL for a group of
 * the other IP family, ENODEV without a route for the group); callers wrap it with their op.
 */
export function configureSocket(socket: Socket, options: PacketOptions): string[] {
  const notes: string[] = [];
  if (options.receiveBufferSize !== undefined) {
    notes.push(`receive buffer ${socket.getRecvBufferSize()} bytes (SO_RCVBUF, as the kernel reports it)`);
  }
  if (options.sendBufferSize !== undefined) {
    notes.push(`send buffer ${socket.getSendBufferSize()} bytes (SO_SNDBUF, as the kernel reports it)`);
  }
  if (options.ttl !== undefined) {
    socket.setTTL(options.ttl);
    notes.push(`TTL ${options.ttl} (IP_TTL)`);
  }
  if (options.broadcast) {
    socket.setBroadcast(true);
    notes.push('broadcast enabled (SO_BROADCAST)');
  }
  if (options.multicastInterface !== undefined) {
    socket.setMulticastInterface(options.multicastInterface);
    notes.push(`multicast interface ${options.multicastInterface}`);
  }
  if (options.multicastTtl !== undefined) {
    socket.setMulticastTTL(options.multicastTtl);
    notes.push(`multicast TTL ${options.multicastTtl}`);
  }
  if (options.multicastLoopback !== undefined) {
    socket.setMulticastLoopback(options.multicastLoopback);
    notes.push(`multicast loopback ${options.multicastLoopback ? 'on' : 'off'}`);
  }
  for (const group of options.join ?? []) {
    socket.addMembership(group, options.multicastInterface);
    notes.push(`joined multicast group ${group}`);
  }
  return notes;
}
