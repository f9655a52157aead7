/**
 * IcmpSocket: a raw ICMP (IPv4) or ICMPv6 socket that sends the messages sockkit builds and
 * parses every message it receives. Node.js has no raw sockets; the `raw-socket` native addon
 * provides them. It is an optional dependency, loaded only when a raw socket is opened, so the
 * rest of sockkit works on a machine where it could not be built.
 */
import { EventEmitter } from 'node:events';
import { IoError, PacketError, type SockkitError } from '../errors.js';
import { nextSocketId, type SocketKind, type Tracer } from '../trace.js';
import { decodeIcmp, type IcmpMessage, type IpFamily } from './icmp.js';
import { decodeIPv4Header, type IPv4Header } from './ipv4-header.js';
import { fromRawError, loadRawSocket, type RawSocket, type RawSocketModule } from './raw-socket-addon.js';

/**
 * Every open IcmpSocket. The addon's socket object is held only weakly by its native side, and a
 * caller awaiting a reply may hold nothing that reaches it either: without this strong reference
 * the garbage collector could destroy an open socket (closing it) while a reply is awaited.
 */
const openSockets = new Set<IcmpSocket>();

/** ReceivedPacket is one ICMP message a raw socket received, parsed. */
export interface ReceivedPacket {
  /** The address that sent it. */
  readonly source: string;
  /** The IPv4 header in front of it (IPv4 only: raw ICMPv6 sockets never deliver the IPv6 header). */
  readonly ip?: IPv4Header | undefined;
  /** The TTL it arrived with (IPv4 only, from its header). */
  readonly ttl?: number | undefined;
  readonly message: IcmpMessage;
  /** Every byte received, IPv4 header included, for hex dumps. */
  readonly bytes: Buffer;
  /** When it arrived, from `performance.now()`. */
  readonly receivedAt: number;
}

/** IcmpSocketOptions configure a raw ICMP socket. */
export interface IcmpSocketOptions {
  /** The operation and address that errors name (`ping 192.0.2.1`). */
  readonly op?: string | undefined;
  readonly url?: string | undefined;
  readonly trace?: Tracer | undefined;
}

interface IcmpSocketEvents {
  packet: [ReceivedPacket];
  malformed: [PacketError, Buffer, string];
  error: [SockkitError];
  close: [];
}

/**
 * IcmpSocket sends ICMP messages and emits `packet` for every well-formed one it receives and
 * `malformed` (with the reason) for the others, which it otherwise drops. A raw socket receives
 * every ICMP message that reaches the host, not only answers to its own: callers filter (ping by
 * identifier). Open one with `IcmpSocket.open`.
 */
export class IcmpSocket extends EventEmitter<IcmpSocketEvents> {
  readonly family: IpFamily;
  readonly #raw: RawSocket;
  readonly #module: RawSocketModule;
  readonly #trace: Tracer | undefined;
  readonly #id = nextSocketId();
  readonly #kind: SocketKind;
  #closed = false;

  private constructor(family: IpFamily, module: RawSocketModule, raw: RawSocket, trace: Tracer | undefined) {
    super();
    this.family = family;
    this.#module = module;
    this.#raw = raw;
    this.#trace = trace;
    this.#kind = family === 4 ? 'icmp4' : 'icmp6';
    openSockets.add(this);
    // The addon calls back from its poll handle without a callback scope, so promises settled
    // there would wait for some unrelated event before their continuations ran. setImmediate
    // hands each event to the event loop proper; the arrival time is taken first.
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
   * open creates a raw ICMP socket for `family`. Rejects with ERR_RAW_UNAVAILABLE when the addon
   * is missing and ERR_PERMISSION_DENIED, saying how to grant it, without root or CAP_NET_RAW.
   */
  static async open(family: IpFamily, options: IcmpSocketOptions = {}): Promise<IcmpSocket> {
    const op = options.op ?? `open icmp${family === 4 ? '' : 'v6'}`;
    const url = options.url ?? '';
    const module = await loadRawSocket(op, url);
    let raw: RawSocket;
    try {
      raw = module.createSocket({
        protocol: family === 4 ? module.Protocol.ICMP : module.Protocol.ICMPv6,
        addressFamily: family === 4 ? module.AddressFamily.IPv4 : module.AddressFamily.IPv6,
        // Room for the largest IPv4 datagram; a smaller buffer would silently cut big replies.
        bufferSize: 65_535,
      });
    } catch (err) {
      throw fromRawError(op, url, err, true);
    }
    return new IcmpSocket(family, module, raw, options.trace);
  }

  /**
   * send sends one ICMP `message` (starting at its type byte; the kernel adds the IP header) to
   * the IP literal `address`. `ttl` sets the TTL (IPv4) or hop limit (IPv6) for this message
   * alone; `beforeSend` runs just before the datagram leaves (sends wait for the socket to be
   * writable), which is the moment to start a round-trip clock. Resolves with the bytes sent; rejects with a SockkitError (ERR_UNREACHABLE when there
   * is no route, ...).
   */
  send(
    message: Buffer,
    address: string,
    options: { ttl?: number | undefined; beforeSend?: () => void } = {},
  ): Promise<number> {
    if (this.#closed) return Promise.reject(new IoError('send', address, 'socket is closed'));
    const { SocketLevel, SocketOption } = this.#module;
    return new Promise((resolve, reject) => {
      const before = (): void => {
        options.beforeSend?.();
        if (options.ttl === undefined) return;
        // Set just before this datagram leaves: sends are queued, and each may carry its own TTL.
        if (this.family === 4) this.#raw.setOption(SocketLevel.IPPROTO_IP, SocketOption.IP_TTL, options.ttl);
        else this.#raw.setOption(SocketLevel.IPPROTO_IPV6, SocketOption.IPV6_UNICAST_HOPS, options.ttl);
      };
      this.#raw.send(message, 0, message.length, address, before, (err, bytes) => {
        setImmediate(() => this.#sent(message, address, err, bytes, resolve, reject));
      });
    });
  }

  #sent(
    message: Buffer,
    address: string,
    err: Error | null,
    bytes: number,
    resolve: (bytes: number) => void,
    reject: (err: SockkitError) => void,
  ): void {
    if (err) {
      const error = fromRawError('send', address, err);
      this.#trace?.({ step: 'error', socketId: this.#id, kind: this.#kind, detail: error.message });
      reject(error);
      return;
    }
    this.#trace?.({ step: 'sent', socketId: this.#id, kind: this.#kind, address, bytes, data: message });
    resolve(bytes);
  }

  /** close closes the socket; it emits nothing after. Calling it again does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    openSockets.delete(this);
    this.#raw.close();
    this.#trace?.({ step: 'closed', socketId: this.#id, kind: this.#kind });
    this.emit('close');
  }

  /** closed is true once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #receive(bytes: Buffer, source: string, receivedAt: number): void {
    if (this.#closed) return;
    this.#trace?.({
      step: 'recv',
      socketId: this.#id,
      kind: this.#kind,
      address: source,
      bytes: bytes.length,
      data: bytes,
    });
    try {
      if (this.family === 4) {
        const { value: ip, used } = decodeIPv4Header(bytes);
        const message = decodeIcmp(4, bytes.subarray(used));
        this.emit('packet', { source, ip, ttl: ip.ttl, message, bytes, receivedAt });
      } else {
        // The kernel verifies ICMPv6 checksums before a raw socket sees the message (RFC 3542
        // section 3.1), and recvfrom does not tell which local address it was sent to.
        this.emit('packet', { source, message: decodeIcmp(6, bytes), bytes, receivedAt });
      }
    } catch (err) {
      if (!(err instanceof PacketError)) throw err;
      this.#trace?.({
        step: 'note',
        socketId: this.#id,
        kind: this.#kind,
        detail: `dropped from ${source}: ${err.message}`,
      });
      this.emit('malformed', err, bytes, source);
    }
  }
}
