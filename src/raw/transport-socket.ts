/**
 * TransportSocket: a raw TCP or UDP socket (SOCK_RAW with IPPROTO_TCP or IPPROTO_UDP) from the
 * optional `raw-socket` addon. The kernel writes the IP header (no IP_HDRINCL), so the TTL is a
 * socket option set per datagram, as for IcmpSocket; sockkit writes the TCP or UDP header and its
 * checksum. It receives a copy of every segment of its protocol that reaches the host, which is
 * how a TCP traceroute sees the SYN-ACK or RST that ends it; opened for one flow, it asks the kernel
 * to hand it only that flow's segments (a socket filter, see socket-filter.ts).
 */
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { IoError, PacketError, type SockkitError } from '../errors.js';
import { socketFilterAttacher } from '../native-addon.js';
import { nextSocketId, type SocketKind, type Tracer } from '../trace.js';
import type { IpFamily } from './icmp.js';
import { decodeIPv4Header } from './ipv4-header.js';
import { IPPROTO_TCP } from './pseudo-header.js';
import { fromRawError, loadRawSocket, type RawSocket, type RawSocketModule } from './raw-socket-addon.js';
import { encodeSocketFilter, flowFilterProgram, flowMatcher, type TransportFlow } from './socket-filter.js';

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

/** TransportSocketOptions name the operation errors report, the tracer, and the flow if any. */
export interface TransportSocketOptions {
  readonly op?: string | undefined;
  readonly url?: string | undefined;
  readonly trace?: Tracer | undefined;
  /**
   * The one flow the socket is for: it then emits only segments from `flow.remoteAddress` and
   * `remotePort` to `localPort`, and asks the kernel to drop every other (see `filter`).
   */
  readonly flow?: TransportFlow | undefined;
}

/** FlowFilter says how a socket opened for a flow keeps every other segment out. */
export interface FlowFilter {
  /**
   * True when the kernel drops them before they are queued (a socket filter). False when it could
   * not be attached: the socket then reads every segment of its protocol and drops the others itself.
   */
  readonly kernel: boolean;
  /** What passes, or why the kernel does not filter, in a few words; also a trace note. */
  readonly reason: string;
}

/**
 * TransportSocket sends segments sockkit built and emits `segment` for every one of its protocol
 * the host receives, or only those of its flow when it was opened for one (callers still check
 * what they need). Open one with `TransportSocket.open`.
 */
export class TransportSocket extends EventEmitter<TransportSocketEvents> {
  readonly family: IpFamily;
  readonly protocol: number;
  /** How segments outside the flow are kept out; undefined when opened for no flow. */
  readonly filter: FlowFilter | undefined;
  readonly #raw: RawSocket;
  readonly #module: RawSocketModule;
  readonly #trace: Tracer | undefined;
  readonly #id = nextSocketId();
  readonly #kind: SocketKind;
  /** The addon's descriptor, when it was found: no later socket may take it for its own. */
  readonly #descriptor: number | undefined;
  #discarded = 0;
  #closed = false;

  private constructor(
    family: IpFamily,
    protocol: number,
    module: RawSocketModule,
    raw: RawSocket,
    own: {
      descriptor: number | undefined;
      flow: TransportFlow | undefined;
      filter: FlowFilter | undefined;
      trace: Tracer | undefined;
    },
  ) {
    super();
    this.family = family;
    this.protocol = protocol;
    this.filter = own.filter;
    this.#module = module;
    this.#raw = raw;
    this.#trace = own.trace;
    this.#descriptor = own.descriptor;
    this.#kind = `${protocol === IPPROTO_TCP ? 'tcp' : 'udp'}${family} raw`;
    openSockets.add(this);
    const inFlow = own.flow && flowMatcher(own.flow);
    // As in IcmpSocket: the addon calls back outside a callback scope; hand each event to the loop.
    raw.on('message', (buffer, source) => {
      const receivedAt = performance.now();
      // What the kernel queued before the filter, or everything without one: dropped before any copy.
      const transport = family === 4 ? buffer.subarray(((buffer[0] ?? 0) & 0x0f) * 4) : buffer; // past the IHL
      if (inFlow && !inFlow(source, transport)) {
        this.#discarded += 1;
        return;
      }
      const bytes = Buffer.from(buffer);
      setImmediate(() => this.#receive(bytes, source, receivedAt));
    });
    raw.on('error', (err) => {
      setImmediate(() => this.emit('error', fromRawError('recv', '', err)));
    });
    this.#trace?.({ step: 'created', socketId: this.#id, kind: this.#kind, detail: 'raw' });
    if (this.filter)
      this.#trace?.({ step: 'note', socketId: this.#id, kind: this.#kind, detail: this.filter.reason });
  }

  /**
   * open creates a raw socket of `protocol` (6 TCP, 17 UDP) for `family`, for `options.flow` when
   * given. Rejects with ERR_RAW_UNAVAILABLE when the addon is missing and ERR_PERMISSION_DENIED
   * without CAP_NET_RAW; throws TypeError for a flow address not of `family`, RangeError for a
   * flow port out of range. A kernel filter that cannot be attached is no error: see `filter`.
   */
  static async open(
    family: IpFamily,
    protocol: number,
    options: TransportSocketOptions = {},
  ): Promise<TransportSocket> {
    const op = options.op ?? 'open raw';
    const url = options.url ?? '';
    const { flow } = options;
    const program = flow && encodeSocketFilter(flowFilterProgram(flow));
    if (flow && !(family === 4 ? isIPv4 : isIPv6)(flow.remoteAddress.replace(/%.*$/, '')))
      throw new TypeError(`flow.remoteAddress must be an IPv${family} literal, got ${flow.remoteAddress}`);
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
    // Synchronous from the socket's creation on: no other TransportSocket is opened meanwhile.
    const descriptor = findDescriptor(family, protocol, TransportSocket.#claimedDescriptors());
    const filter = flow && program && attachFilter(descriptor, flow, program);
    enlargeReceiveBuffer(module, raw);
    return new TransportSocket(family, protocol, module, raw, {
      descriptor: typeof descriptor === 'number' ? descriptor : undefined,
      flow,
      filter,
      trace: options.trace,
    });
  }

  /**
   * discarded counts the segments this socket read but did not emit as outside its flow: those
   * queued before its kernel filter was attached, or every other one when there is no filter.
   */
  get discarded(): number {
    return this.#discarded;
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

  /** claimedDescriptors are the descriptors of the open TransportSockets. */
  static #claimedDescriptors(): Set<number> {
    const claimed = new Set<number>();
    for (const socket of openSockets) if (socket.#descriptor !== undefined) claimed.add(socket.#descriptor);
    return claimed;
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
 * one RST or SYN-ACK a trace waits for was dropped, and its hop read as a timeout. A flow's
 * kernel filter removes the cause; this is for a socket opened for no flow, or without a filter.
 * It asks for RECEIVE_BUFFER with SO_RCVBUFFORCE, then with SO_RCVBUF (which the kernel caps at
 * rmem_max); a kernel that refuses both leaves the default, which still works on a quiet host.
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

/**
 * findDescriptor returns the descriptor of the raw socket of `family` and `protocol` this process
 * has just opened through the addon (which does not tell it), or why it cannot: it is the one such
 * socket in /proc/net/raw (raw6; a raw socket's "port" there is its protocol) that a descriptor of
 * this process holds, not counting the `claimed` ones of the open TransportSockets.
 */
function findDescriptor(family: IpFamily, protocol: number, claimed: ReadonlySet<number>): number | string {
  const byInode = new Map<string, number>();
  let table: string;
  try {
    for (const name of readdirSync('/proc/self/fd')) {
      const descriptor = Number(name);
      if (claimed.has(descriptor)) continue;
      let target: string;
      try {
        target = readlinkSync(`/proc/self/fd/${name}`);
      } catch {
        continue; // closed since the listing (the listing's own descriptor is)
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) byInode.set(inode, descriptor);
    }
    table = readFileSync(family === 4 ? '/proc/self/net/raw' : '/proc/self/net/raw6', 'latin1');
  } catch (err) {
    return `/proc cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  const found: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    const fields = line.trim().split(/\s+/);
    const inode = fields[9];
    const descriptor = inode === undefined ? undefined : byInode.get(inode);
    if (descriptor !== undefined && Number.parseInt(fields[1]?.split(':')[1] ?? '', 16) === protocol)
      found.push(descriptor);
  }
  if (found.length === 1 && found[0] !== undefined) return found[0];
  return found.length === 0
    ? 'its descriptor is not in /proc/self/fd'
    : `${found.length} raw sockets of its protocol in this process are not TransportSockets' own, so which is its own is not known`;
}

/**
 * attachFilter asks the kernel to drop every segment outside `flow` on the socket `descriptor`
 * (or the reason it was not found), and to discard what it queued before. It reports what it
 * could do; when it could not, the socket reads everything and drops the others itself.
 */
function attachFilter(descriptor: number | string, flow: TransportFlow, program: Buffer): FlowFilter {
  const passes = `from ${flow.remoteAddress} port ${flow.remotePort} to port ${flow.localPort}`;
  const without = (why: string): FlowFilter => ({
    kernel: false,
    reason: `no kernel filter (${why}): every segment is read, and only those ${passes} emitted`,
  });
  if (typeof descriptor === 'string') return without(descriptor);
  const attacher = socketFilterAttacher();
  if ('reason' in attacher) return without(attacher.reason);
  // Discarding is safe on this new socket: libuv starts polling it at the next turn of the event
  // loop, so the addon is woken for none of what is discarded (an empty read would be an error).
  const outcome = attacher.attach(descriptor, program, true);
  if (outcome < 0) return without(`SO_ATTACH_FILTER: ${errnoName(-outcome)}`);
  return {
    kernel: true,
    reason: `kernel filter: only segments ${passes} (${outcome} queued before it discarded)`,
  };
}

/** errnoName names a positive errno (`EPERM`), or gives its number when Node does not know it. */
function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}
