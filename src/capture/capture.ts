/**
 * Capture records what tapped connections and datagram sockets carry, as a pcapng file that
 * Wireshark, tshark and tcpdump open, as a traffic hex dump a person reads, or both. It needs no
 * privilege: the packets are synthesized from the bytes sockkit itself sent and received.
 */
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatHostPort } from '../address.js';
import { type PacketEndpoint, udpPacket } from './ip-packet.js';
import {
  CAPTURE_SNAPLEN,
  encodeEnhancedPacket,
  encodeInterfaceDescription,
  encodeSectionHeader,
  LINKTYPE_RAW,
  OptionCode,
} from './pcapng.js';
import type {
  PacketTap,
  PacketTapFactory,
  PacketTapInfo,
  StreamTap,
  StreamTapFactory,
  StreamTapInfo,
  TapDirection,
} from './tap.js';
import { type FlowSide, TcpFlow } from './tcp-flow.js';
import { formatTrafficChunk, formatTrafficEvent } from './traffic-hexdump.js';

/**
 * UNIX_FLOW_ADDRESS stands in for a Unix socket's ends, which have no IP address a capture could
 * carry: such a connection is written as TCP between UNIX_FLOW_ADDRESS:UNIX_SERVER_PORT (the side
 * that accepted) and UNIX_FLOW_ADDRESS:49152+n (the side that connected, n counting connections).
 */
export const UNIX_FLOW_ADDRESS = '127.0.0.1';
export const UNIX_SERVER_PORT = 1;

/** CaptureOptions say where a Capture writes. Sinks must not throw. */
export interface CaptureOptions {
  /** Receives the pcapng file in pieces: the headers at once, then the blocks of each event. */
  readonly pcapng?: ((bytes: Buffer) => void) | undefined;
  /** Receives the traffic hex dump (see formatTrafficChunk), a line or a chunk at a time. */
  readonly hexdump?: ((text: string) => void) | undefined;
  /** The clock, in microseconds since 1970. Default: the wall clock at start, advanced monotonically. */
  readonly clock?: (() => number) | undefined;
  /** Picks each flow's initial sequence numbers. Default: random, as a real stack does. */
  readonly initialSequence?: (() => number) | undefined;
}

/**
 * Capture hands out taps (`streamTap` for `dial`/`listen`, `packetTap` for `dialPacket`/
 * `listenPacket`) that write everything they see. Each connection is one TCP flow between its
 * real addresses and ports (IPv4-mapped addresses as IPv4; Unix sockets as described at
 * UNIX_FLOW_ADDRESS), each datagram one UDP packet; the pcapng has one interface of
 * LINKTYPE_RAW with microsecond timestamps. Connections and sockets are numbered from 1, in the
 * order they were tapped.
 */
export class Capture {
  readonly #pcapng: ((bytes: Buffer) => void) | undefined;
  readonly #hexdump: ((text: string) => void) | undefined;
  readonly #clock: () => number;
  readonly #initialSequence: () => number;
  readonly #start: number;
  #tapped = 0;
  #udpId = 0;

  constructor(options: CaptureOptions) {
    this.#pcapng = options.pcapng;
    this.#hexdump = options.hexdump;
    this.#clock = options.clock ?? monotonicWallClock();
    this.#initialSequence = options.initialSequence ?? (() => randomInt(2 ** 32 - 1));
    this.#start = this.#clock();
    this.#pcapng?.(
      Buffer.concat([
        encodeSectionHeader([{ code: OptionCode.shbUserApplication, value: 'sockkit' }]),
        encodeInterfaceDescription(LINKTYPE_RAW, CAPTURE_SNAPLEN, [
          { code: OptionCode.ifName, value: 'sockkit' },
        ]),
      ]),
    );
  }

  /** tapped counts the connections and sockets tapped so far. */
  get tapped(): number {
    return this.#tapped;
  }

  /** streamTap is the StreamTapFactory to pass as `tap` to `dial` or `listen`. */
  readonly streamTap: StreamTapFactory = (info) => this.#openStream(info);

  /** packetTap is the PacketTapFactory to pass as `tap` to `dialPacket` or `listenPacket`. */
  readonly packetTap: PacketTapFactory = (info) => this.#openPacket(info);

  #openStream(info: StreamTapInfo): StreamTap {
    this.#tapped += 1;
    const id = this.#tapped;
    const [local, remote] =
      info.local && info.remote ? flowEnds(info.local, info.remote) : unixEnds(info.role, id);
    const localSide: FlowSide = info.role;
    const remoteSide: FlowSide = info.role === 'client' ? 'server' : 'client';
    const flow =
      info.role === 'client'
        ? new TcpFlow(local, remote, this.#isns())
        : new TcpFlow(remote, local, this.#isns());
    const sideOf = (direction: TapDirection): FlowSide => (direction === 'out' ? localSide : remoteSide);
    const offsets = { in: 0, out: 0 };
    this.#packets(flow.open());
    this.#event(id, opening(info));
    return {
      data: (direction, chunk) => {
        this.#packets(flow.data(sideOf(direction), chunk));
        this.#chunk(id, direction, offsets[direction], chunk);
        offsets[direction] += chunk.length;
      },
      end: (direction) => {
        this.#packets(flow.end(sideOf(direction)));
        this.#event(
          id,
          `${direction === 'out' ? '> sent' : '< received'} end of stream (FIN) after ${offsets[direction]} bytes`,
        );
      },
      close: (failed) => {
        // Closing a socket sends our FIN if it was not sent; a failure is the peer's reset, as seen here.
        this.#packets(failed ? flow.reset(remoteSide) : flow.end(localSide));
        this.#event(id, failed ? 'closed by an error (reset)' : 'closed');
      },
    };
  }

  #openPacket(info: PacketTapInfo): PacketTap {
    this.#tapped += 1;
    const id = this.#tapped;
    this.#event(id, `${info.kind} socket on ${formatHostPort(info.local.address, info.local.port)}`);
    return {
      datagram: (direction, data, peer) => {
        const [local, remote] = flowEnds(info.local, peer);
        const ipId = this.#udpId;
        this.#udpId = (ipId + 1) & 0xffff;
        this.#packets([
          direction === 'out' ? udpPacket(local, remote, data, ipId) : udpPacket(remote, local, data, ipId),
        ]);
        if (this.#hexdump)
          this.#hexdump(
            formatTrafficChunk({
              connection: id,
              elapsed: this.#elapsed(),
              direction,
              offset: 0,
              data,
              peer: formatHostPort(peer.address, peer.port),
            }),
          );
      },
      close: () => this.#event(id, 'closed'),
    };
  }

  #isns(): { clientIsn: number; serverIsn: number } {
    return { clientIsn: this.#initialSequence(), serverIsn: this.#initialSequence() };
  }

  #packets(packets: readonly Buffer[]): void {
    if (!this.#pcapng || packets.length === 0) return;
    const time = this.#clock();
    this.#pcapng(Buffer.concat(packets.map((packet) => encodeEnhancedPacket(0, time, packet))));
  }

  #chunk(connection: number, direction: TapDirection, offset: number, data: Uint8Array): void {
    this.#hexdump?.(formatTrafficChunk({ connection, elapsed: this.#elapsed(), direction, offset, data }));
  }

  #event(connection: number, text: string): void {
    this.#hexdump?.(formatTrafficEvent(connection, this.#elapsed(), text));
  }

  #elapsed(): number {
    return (this.#clock() - this.#start) / 1000;
  }
}

/**
 * flowEnds returns `local` and `remote` as one IP family can carry them: an IPv4-mapped IPv6
 * address (`::ffff:127.0.0.1`, on a dual-stack socket) as its IPv4 address, and a wildcard bound
 * address facing a peer of the other family as that family's wildcard.
 */
function flowEnds(local: PacketEndpoint, remote: PacketEndpoint): [PacketEndpoint, PacketEndpoint] {
  const remoteAddress = unmapped(remote.address);
  let localAddress = unmapped(local.address);
  if (isIPv4(remoteAddress) !== isIPv4(localAddress)) localAddress = isIPv4(remoteAddress) ? '0.0.0.0' : '::';
  return [
    { address: localAddress, port: local.port },
    { address: remoteAddress, port: remote.port },
  ];
}

/** unixEnds returns the stand-in addresses of Unix connection number `id` (see UNIX_FLOW_ADDRESS). */
function unixEnds(role: 'client' | 'server', id: number): [PacketEndpoint, PacketEndpoint] {
  const server = { address: UNIX_FLOW_ADDRESS, port: UNIX_SERVER_PORT };
  const client = { address: UNIX_FLOW_ADDRESS, port: 49_152 + (id % 16_384) };
  return role === 'client' ? [client, server] : [server, client];
}

function unmapped(address: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
}

/** opening is what the hex dump says of a new connection: who connected to whom, over what. */
function opening(info: StreamTapInfo): string {
  const { local, remote } = info;
  if (!local || !remote)
    return info.role === 'client' ? `connected to ${info.url}` : `accepted a client on ${info.url}`;
  const [here, there] = [local, remote].map((e) => formatHostPort(unmapped(e.address), e.port));
  const transport = info.kind.slice(0, 3);
  return info.role === 'client'
    ? `connected ${here} -> ${there} (${transport})`
    : `accepted ${there} on ${here} (${transport})`;
}

/** monotonicWallClock reads the wall clock once, then advances it with the monotonic clock (µs). */
function monotonicWallClock(): () => number {
  const wall = Date.now() * 1000;
  const start = performance.now();
  return () => Math.round(wall + (performance.now() - start) * 1000);
}
