/**
 * FlowSession: TCP SYN or UDP probes towards one address and port, all of one flow (Paris
 * traceroute): the same addresses, ports and length on every probe, so that a router balancing
 * load by flow keeps them on one path. Probes are told apart by what a flow hash does not read
 * and an ICMP error still quotes: the TCP sequence number, or the UDP checksum.
 *
 * Each probe ends with an ICMP error quoting it (time exceeded from a router, unreachable), the
 * target's answer (a TCP SYN-ACK from an open port or RST from a closed one; a UDP reply), or
 * silence. Two raw sockets do it: one of the probe's protocol to send (and see TCP answers), one
 * ICMP socket to see the errors.
 */
import { randomInt } from 'node:crypto';
import { createSocket as createUdpSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { AbortError, PacketError, type SockkitError, UnreachableError } from '../errors.js';
import type { Tracer } from '../trace.js';
import type { ProbeOutcome, ProbeSession } from './echo-run.js';
import type { EchoRequestOptions } from './echo-session.js';
import type { IpFamily } from './icmp.js';
import { describeIcmpError } from './icmp-names.js';
import { IcmpSocket, type ReceivedPacket } from './icmp-socket.js';
import { localAddressFor } from './local-address.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './pseudo-header.js';
import { decodeQuotedTcp, decodeTcpHeader, encodeSyn, TcpFlag } from './tcp-header.js';
import { type Segment, TransportSocket } from './transport-socket.js';
import { decodeUdpHeader } from './udp-header.js';
import { encodeUdpProbe } from './udp-probe.js';

/** FlowProtocol is the transport a FlowSession probes with. */
export type FlowProtocol = 'tcp' | 'udp';

/** FlowSessionOptions configure a FlowSession. */
export interface FlowSessionOptions {
  /** The destination port of every probe. */
  readonly port: number;
  /** UDP: payload bytes per probe (at least 2); 32 by default. */
  readonly payloadLength?: number | undefined;
  readonly trace?: Tracer | undefined;
  /** The operation and address errors name (`traceroute 10.0.0.1`). */
  readonly op?: string | undefined;
  readonly url?: string | undefined;
}

interface Pending {
  readonly sequence: number;
  sentAt: number;
  readonly settle: (outcome: ProbeOutcome) => void;
}

/**
 * FlowSession sends probes of one flow to `address`:`port` and matches what answers them. Open
 * it with `FlowSession.open` (which may reject with ERR_PERMISSION_DENIED or ERR_RAW_UNAVAILABLE);
 * close it when done.
 */
export class FlowSession implements ProbeSession {
  readonly address: string;
  readonly family: IpFamily;
  readonly protocol: FlowProtocol;
  readonly port: number;
  /** The local address and port every probe comes from. */
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly #icmp: IcmpSocket;
  readonly #transport: TransportSocket;
  /** Holds the source port, so no other socket on this host is given it while the trace runs. */
  readonly #reservation: Server | UdpSocket;
  /** TCP: the sequence number of probe 0; probe N carries base + N. */
  readonly #base = randomInt(0, 2 ** 32 - 1);
  readonly #payloadLength: number;
  /** Pending probes by what identifies them on the wire: the TCP sequence or the UDP checksum. */
  readonly #pending = new Map<number, Pending>();
  readonly #op: string;

  private constructor(
    address: string,
    family: IpFamily,
    protocol: FlowProtocol,
    local: { address: string; port: number },
    sockets: { icmp: IcmpSocket; transport: TransportSocket; reservation: Server | UdpSocket },
    options: FlowSessionOptions,
  ) {
    this.address = address;
    this.family = family;
    this.protocol = protocol;
    this.port = options.port;
    this.sourceAddress = local.address;
    this.sourcePort = local.port;
    this.#icmp = sockets.icmp;
    this.#transport = sockets.transport;
    this.#reservation = sockets.reservation;
    this.#payloadLength = options.payloadLength ?? 32;
    this.#op = options.op ?? 'probe';
    this.#icmp.on('packet', (packet) => this.#icmpError(packet));
    this.#icmp.on('error', () => {}); // a failed receive loses one answer: that probe times out
    this.#transport.on('segment', (segment) => this.#answer(segment));
    this.#transport.on('error', () => {});
  }

  /**
   * open opens the raw sockets for probes of `protocol` to the IP literal `address` and reserves
   * a source port. Rejects with ERR_PERMISSION_DENIED, ERR_RAW_UNAVAILABLE or ERR_UNREACHABLE (no
   * route to the address).
   */
  static async open(
    address: string,
    family: IpFamily,
    protocol: FlowProtocol,
    options: FlowSessionOptions,
  ): Promise<FlowSession> {
    const op = options.op ?? 'probe';
    const url = options.url ?? address;
    const local = await localAddressFor(address, family);
    if (!local) throw new UnreachableError(op, url, 'no route to the address');
    const icmp = await IcmpSocket.open(family, { op, url, trace: options.trace });
    let reservation: Server | UdpSocket | undefined;
    let transport: TransportSocket | undefined;
    try {
      reservation = await reservePort(protocol, local, family);
      const port =
        protocol === 'tcp' ? (reservation as Server).address() : (reservation as UdpSocket).address();
      const sourcePort = typeof port === 'object' && port ? port.port : 0;
      // Opened once the flow is known, so the kernel hands it only this flow's answers.
      transport = await TransportSocket.open(family, protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, {
        op,
        url,
        trace: options.trace,
        flow: { remoteAddress: address, remotePort: options.port, localPort: sourcePort },
      });
      return new FlowSession(
        address,
        family,
        protocol,
        { address: local, port: sourcePort },
        { icmp, transport, reservation },
        options,
      );
    } catch (err) {
      icmp.close();
      transport?.close();
      reservation?.close();
      throw err;
    }
  }

  /**
   * request sends probe `sequence` (1 to 65535) with TTL `ttl` and resolves with its outcome: the
   * target's answer (`reply`, with `open` for TCP), an ICMP error quoting it, or a timeout.
   * Rejects with the send's SockkitError, or AbortError.
   */
  request(options: EchoRequestOptions): Promise<ProbeOutcome> {
    const { sequence, timeout, signal, ttl } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(this.#op, this.address));
    const key = this.#keyOf(sequence);
    if (this.#pending.has(key))
      return Promise.reject(new RangeError(`probe ${sequence} is already awaiting an answer`));
    const segment =
      this.protocol === 'tcp'
        ? encodeSyn(
            { sourcePort: this.sourcePort, destinationPort: this.port, sequence: key },
            this.sourceAddress,
            this.address,
          )
        : encodeUdpProbe(
            {
              sourcePort: this.sourcePort,
              destinationPort: this.port,
              checksum: key,
              payloadLength: this.#payloadLength,
            },
            this.sourceAddress,
            this.address,
          );
    return new Promise<ProbeOutcome>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(key);
      };
      const onAbort = (): void => {
        finish();
        reject(new AbortError(this.#op, this.address));
      };
      const timer = setTimeout(() => {
        finish();
        resolve({ kind: 'timeout', sequence });
      }, timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      const pending: Pending = {
        sequence,
        sentAt: performance.now(),
        settle: (outcome) => {
          finish();
          resolve(outcome);
        },
      };
      this.#pending.set(key, pending);
      this.#transport
        .send(segment, this.address, {
          ttl,
          beforeSend: () => {
            pending.sentAt = performance.now();
          },
        })
        .catch((err: SockkitError) => {
          finish();
          reject(err);
        });
    });
  }

  /** close closes the sockets and releases the source port; pending probes are left to time out. */
  close(): void {
    this.#icmp.close();
    this.#transport.close();
    this.#reservation.close();
  }

  /** keyOf maps a probe's sequence to what identifies it on the wire. */
  #keyOf(sequence: number): number {
    if (this.protocol === 'tcp') return (this.#base + sequence) >>> 0;
    return ((sequence - 1) % 0xfffe) + 1; // a UDP checksum: never 0 (none) nor 0xffff (a computed 0)
  }

  #icmpError(packet: ReceivedPacket): void {
    const { message } = packet;
    if (!('quoted' in message)) return;
    const { quoted } = message;
    if (quoted.ip.destination !== this.address) return;
    let key: number;
    try {
      if (this.protocol === 'tcp') {
        if (quoted.protocol !== IPPROTO_TCP) return;
        const headerLength = quoted.ip.version === 4 ? quoted.ip.headerLength : 40;
        const tcp = decodeQuotedTcp(quoted.bytes.subarray(headerLength));
        if (tcp.sourcePort !== this.sourcePort || tcp.destinationPort !== this.port) return;
        key = tcp.sequence;
      } else {
        const udp = quoted.udp;
        if (quoted.protocol !== IPPROTO_UDP || !udp) return;
        if (udp.sourcePort !== this.sourcePort || udp.destinationPort !== this.port) return;
        key = udp.checksum;
      }
    } catch (err) {
      if (err instanceof PacketError) return; // a quote too short to be ours
      throw err;
    }
    const pending = this.#pending.get(key);
    if (!pending) return;
    pending.settle({
      kind: 'error',
      sequence: pending.sequence,
      source: packet.source,
      icmpType: message.type,
      icmpCode: message.code,
      text: describeIcmpError(this.family, message.type, message.code, message.rest),
      errorKind: message.kind,
      rest: message.rest,
      rtt: packet.receivedAt - pending.sentAt,
    });
  }

  #answer(segment: Segment): void {
    if (segment.source !== this.address) return;
    try {
      if (this.protocol === 'tcp') {
        const { value: tcp } = decodeTcpHeader(segment.bytes);
        if (tcp.sourcePort !== this.port || tcp.destinationPort !== this.sourcePort) return;
        const synAck = (tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
        const reset = (tcp.flags & TcpFlag.RST) !== 0;
        if (!synAck && !reset) return;
        const pending = this.#pending.get((tcp.acknowledgment - 1) >>> 0);
        pending?.settle({
          kind: 'reply',
          sequence: pending.sequence,
          source: segment.source,
          rtt: segment.receivedAt - pending.sentAt,
          open: synAck && !reset,
        });
        return;
      }
      const { value: udp } = decodeUdpHeader(segment.bytes);
      if (udp.sourcePort !== this.port || udp.destinationPort !== this.sourcePort) return;
      // A UDP answer does not say which probe it answers: credit the oldest one waiting.
      const [pending] = this.#pending.values();
      pending?.settle({
        kind: 'reply',
        sequence: pending.sequence,
        source: segment.source,
        rtt: segment.receivedAt - pending.sentAt,
        open: true,
      });
    } catch (err) {
      if (!(err instanceof PacketError)) throw err; // a malformed segment is dropped
    }
  }
}

/**
 * reservePort binds a socket of `protocol` to a free port on `local`, held for the session: no
 * other socket of this host gets the port meanwhile. A TCP listener takes no connection (a
 * SYN-ACK it receives is answered with a RST by the kernel, as for a closed port).
 */
async function reservePort(
  protocol: FlowProtocol,
  local: string,
  family: IpFamily,
): Promise<Server | UdpSocket> {
  if (protocol === 'tcp') {
    const server = createServer((socket) => socket.destroy());
    server.maxConnections = 0;
    server.listen(0, local.replace(/%.*$/, ''));
    await once(server, 'listening');
    return server;
  }
  const socket = createUdpSocket(family === 4 ? 'udp4' : 'udp6');
  socket.on('message', () => {}); // a reply is read from the raw socket
  socket.bind(0, local);
  await once(socket, 'listening');
  return socket;
}
