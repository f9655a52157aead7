/**
 * TransportSocket: a raw TCP or UDP socket (SOCK_RAW with IPPROTO_TCP or IPPROTO_UDP) from the
 * optional `raw-socket` addon. The kernel writes the IP header (no IP_HDRINCL), so the TTL is a
 * socket option set per datagram, as for IcmpSocket; sockkit writes the TCP or UDP header and its
 * checksum. It receives a copy of every segment of its protocol that reaches the host, which is
 * how a TCP traceroute sees the SYN-ACK or RST that ends it.
 */
import { EventEmitter } from 'node:events';
import { IoError, PacketError, type SockkitError } from '../errors.js';
import { nextSocketId, type SocketKind, type Tracer } from '../trace.js';
import type { IpFamily } from './icmp.js';
import { decodeIPv4Header } from './ipv4-header.js';
import { IPPROTO_TCP } from './pseudo-header.js';
import { fromRawError, loadRawSocket, type RawSocket, type RawSocketModule } from './raw-socket-addon.js';

/** Open sockets, held strongly: the addon's native side holds its socket object only weakly. */
const openSockets = new Set<TransportSocket>();

/** Segment is one TCP segment or UDP datagram a raw socket received, from its transport header on. */
export interface Segment {
  readonly source: string;
  /** The segment, transport header first (the IPv4 header the kernel delivers is removed). */
  readonly bytes: Buffer;
  /** When it arrived, from `performance.now()`. */
  readonly receivedAt: number;
}

interface TransportSocketEvents {
  segment: [Segment];
  error: [SockkitError];
}

/** TransportSocketOptions name the operation errors report and the tracer. */
export interface TransportSocketOptions {
  readonly op?: string | undefined;
  readonly url?: string | undefined;
  readonly trace?: Tracer | undefined;
}

/**
 * TransportSocket sends segments sockkit built and emits `segment` for every one of its protocol
 * the host receives (callers filter by address and ports). Open one with `TransportSocket.open`.
 */
export class TransportSocket extends EventEmitter<TransportSocketEvents> {
  readonly family: IpFamily;
  readonly protocol: number;
  readonly #raw: RawSocket;
  readonly #module: RawSocketModule;
  readonly #trace: Tracer | undefined;
  readonly #id = nextSocketId();
  readonly #kind: SocketKind;
  #closed = false;

  private constructor(
    family: IpFamily,
    protocol: number,
    module: RawSocketModule,
    raw: RawSocket,
    trace?: Tracer,
  ) {
    super();
    this.family = family;
    this.protocol = protocol;
    this.#module = module;
    this.#raw = raw;
    this.#trace = trace;
    this.#kind = `${protocol === IPPROTO_TCP ? 'tcp' : 'udp'}${family} raw`;
    openSockets.add(this);
    // As in IcmpSocket: the addon calls back outside a callback scope; hand each event to the loop.
    raw.on('message', (buffer, source) => {
      const receivedAt = performance.now();
      const bytes = Buffer.from(buffer);
      setImmediate(() => this.#receive(bytes, source, receivedAt));
    });
    raw.on('error', (err) => {
      setImmediate(() => this.emit('error', fromRawError('recv', '', err)));
    });
    this.#trace?.({ step: 'created', socketId: this.#id, kind: this.#kind, detail: 'raw' });
  }

  /**
   * open creates a raw socket of `protocol` (6 TCP, 17 UDP) for `family`. Rejects with
   * ERR_RAW_UNAVAILABLE when the addon is missing and ERR_PERMISSION_DENIED without CAP_NET_RAW.
   */
  static async open(
    family: IpFamily,
    protocol: number,
    options: TransportSocketOptions = {},
  ): Promise<TransportSocket> {
    const op = options.op ?? 'open raw';
    const url = options.url ?? '';
    const module = await loadRawSocket(op, url);
    let raw: RawSocket;
    try {
      raw = module.createSocket({
        protocol,
        addressFamily: family === 4 ? module.AddressFamily.IPv4 : module.AddressFamily.IPv6,
        bufferSize: 65_535,
      });
    } catch (err) {
      throw fromRawError(op, url, err, true);
    }
    enlargeReceiveBuffer(module, raw);
    return new TransportSocket(family, protocol, module, raw, options.trace);
  }

  /**
   * send sends `segment` (transport header first) to the IP literal `address` with TTL (or hop
   * limit) `ttl`, set just before it leaves; `beforeSend` runs then too, to start a clock.
   * Resolves with the bytes sent; rejects with a SockkitError.
   */
  send(
    segment: Buffer,
    address: string,
    options: { ttl?: number | undefined; beforeSend?: () => void } = {},
  ): Promise<number> {
    if (this.#closed) return Promise.reject(new IoError('send', address, 'socket is closed'));
    const { SocketLevel, SocketOption } = this.#module;
    return new Promise((resolve, reject) => {
      const before = (): void => {
        options.beforeSend?.();
        if (options.ttl === undefined) return;
        if (this.family === 4) this.#raw.setOption(SocketLevel.IPPROTO_IP, SocketOption.IP_TTL, options.ttl);
        else this.#raw.setOption(SocketLevel.IPPROTO_IPV6, SocketOption.IPV6_UNICAST_HOPS, options.ttl);
      };
      this.#raw.send(segment, 0, segment.length, address, before, (err, bytes) => {
        setImmediate(() => {
          if (err) return reject(fromRawError('send', address, err));
          this.#trace?.({ step: 'sent', socketId: this.#id, kind: this.#kind, address, bytes });
          resolve(bytes);
        });
      });
    });
  }

  /**
   * receiveBufferSize is the socket's receive buffer as the kernel reports it (SO_RCVBUF: twice
   * what was asked, for the kernel's bookkeeping).
   */
  receiveBufferSize(): number {
    const value = Buffer.alloc(4);
    this.#raw.getOption(this.#module.SocketLevel.SOL_SOCKET, this.#module.SocketOption.SO_RCVBUF, value, 4);
    return value.readInt32LE(0);
  }

  /** close closes the socket; it emits nothing after. Calling it again does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openSockets.delete(this);
    this.#raw.close();
    this.#trace?.({ step: 'closed', socketId: this.#id, kind: this.#kind });
  }

  #receive(bytes: Buffer, source: string, receivedAt: number): void {
    if (this.#closed) return;
    if (this.family === 6) {
      // Raw IPv6 sockets never deliver the IPv6 header (RFC 3542 section 3).
      this.emit('segment', { source, bytes, receivedAt });
      return;
    }
    try {
      const { used } = decodeIPv4Header(bytes);
      this.emit('segment', { source, bytes: bytes.subarray(used), receivedAt });
    } catch (err) {
      if (!(err instanceof PacketError)) throw err;
      this.#trace?.({
        step: 'note',
        socketId: this.#id,
        kind: this.#kind,
        detail: `dropped from ${source}: ${err.message}`,
      });
    }
  }
}

/** RECEIVE_BUFFER is what a raw transport socket asks the kernel to hold for it: 8 MiB. */
const RECEIVE_BUFFER = 8 * 1024 ** 2;
/** SO_RCVBUFFORCE (Linux): SO_RCVBUF past net.core.rmem_max, for a process with CAP_NET_ADMIN. */
const SO_RCVBUFFORCE = 33;

/**
 * enlargeReceiveBuffer makes room for the replies a probe waits for. A raw TCP or UDP socket is
 * given a copy of every segment of its protocol on the host, and a loopback segment can be 64 KiB:
 * the default buffer (about 208 KiB) holds three, so with bulk traffic elsewhere on the host the
 * one RST or SYN-ACK a trace waits for was dropped, and its hop read as a timeout. It asks for
 * RECEIVE_BUFFER with SO_RCVBUFFORCE, then with SO_RCVBUF (which the kernel caps at rmem_max);
 * a kernel that refuses both leaves the default, which still works on a quiet host.
 */
function enlargeReceiveBuffer(module: RawSocketModule, raw: RawSocket): void {
  const level = module.SocketLevel.SOL_SOCKET;
  for (const option of [SO_RCVBUFFORCE, module.SocketOption.SO_RCVBUF]) {
    try {
      raw.setOption(level, option, RECEIVE_BUFFER);
      return;
    } catch {
      // Not permitted (no CAP_NET_ADMIN) or not known: try the next, or keep the default.
    }
  }
}
