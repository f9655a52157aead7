/**
 * TcpFlow turns what one connection did (opened, bytes each way, half-closed, closed) into the
 * TCP segments a capture on the wire would have shown: the three-way handshake, data segments
 * with consistent sequence and acknowledgement numbers, the acknowledgements, FIN each way. A
 * capture reader reassembles exactly the bytes that passed ("Follow TCP stream"). Pure: events
 * in, IP packets out; no clock, no socket.
 */
import { TcpFlag } from '../raw/tcp-header.js';
import { type PacketEndpoint, tcpPacket } from './ip-packet.js';

/** FlowSide names an end of a flow: the side that opened it (`client`) or accepted it (`server`). */
export type FlowSide = 'client' | 'server';

/**
 * MAX_SEGMENT_DATA is the most data one synthesized segment carries: what fits an IPv4 packet
 * (65,535 bytes) after its 20-byte header and a 20-byte TCP header. Longer chunks are split.
 */
export const MAX_SEGMENT_DATA = 65_495;

/** TcpFlowOptions choose a flow's initial sequence numbers and advertised window. */
export interface TcpFlowOptions {
  /** The client's initial sequence number (RFC 9293 section 3.4.1); 0 by default. */
  readonly clientIsn?: number | undefined;
  readonly serverIsn?: number | undefined;
  /** The receive window both sides advertise; 65535 by default. */
  readonly window?: number | undefined;
}

/**
 * TcpFlow synthesizes one TCP connection between `client` and `server` (IP literals of one
 * family). Each method returns the IP packets that event puts on the wire, in order. Data from a
 * side that has already sent its FIN is not TCP and yields nothing; so does a second FIN.
 */
export class TcpFlow {
  readonly client: PacketEndpoint;
  readonly server: PacketEndpoint;
  readonly #window: number;
  /** The next sequence number each side sends (SND.NXT), modulo 2^32. */
  readonly #next: Record<FlowSide, number>;
  readonly #finished: Record<FlowSide, boolean> = { client: false, server: false };
  /** Each side's IPv4 identification counter. */
  readonly #ipId: Record<FlowSide, number> = { client: 0, server: 0 };

  constructor(client: PacketEndpoint, server: PacketEndpoint, options: TcpFlowOptions = {}) {
    this.client = client;
    this.server = server;
    this.#window = options.window ?? 0xffff;
    this.#next = { client: (options.clientIsn ?? 0) >>> 0, server: (options.serverIsn ?? 0) >>> 0 };
  }

  /** open returns the handshake: SYN, SYN-ACK, ACK. Each SYN takes one sequence number. */
  open(): Buffer[] {
    const syn = this.#segment('client', TcpFlag.SYN, Buffer.alloc(0), 0);
    this.#next.client = (this.#next.client + 1) >>> 0;
    const synAck = this.#segment('server', TcpFlag.SYN | TcpFlag.ACK);
    this.#next.server = (this.#next.server + 1) >>> 0;
    return [syn, synAck, this.#segment('client', TcpFlag.ACK)];
  }

  /**
   * data returns `bytes` sent by `from` as segments of at most MAX_SEGMENT_DATA bytes (ACK set,
   * PSH on the last), then the other side's acknowledgement of them.
   */
  data(from: FlowSide, bytes: Uint8Array): Buffer[] {
    if (bytes.length === 0 || this.#finished[from]) return [];
    const packets: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += MAX_SEGMENT_DATA) {
      const piece = bytes.subarray(at, Math.min(at + MAX_SEGMENT_DATA, bytes.length));
      const last = at + piece.length === bytes.length;
      packets.push(this.#segment(from, TcpFlag.ACK | (last ? TcpFlag.PSH : 0), piece));
      this.#next[from] = (this.#next[from] + piece.length) >>> 0;
    }
    packets.push(this.#segment(other(from), TcpFlag.ACK));
    return packets;
  }

  /** end returns `from`'s FIN (which takes one sequence number) and the other side's acknowledgement. */
  end(from: FlowSide): Buffer[] {
    if (this.#finished[from]) return [];
    this.#finished[from] = true;
    const fin = this.#segment(from, TcpFlag.FIN | TcpFlag.ACK);
    this.#next[from] = (this.#next[from] + 1) >>> 0;
    return [fin, this.#segment(other(from), TcpFlag.ACK)];
  }

  /** reset returns the RST `from` sends to abort the connection; nothing follows it. */
  reset(from: FlowSide): Buffer[] {
    this.#finished.client = true;
    this.#finished.server = true;
    return [this.#segment(from, TcpFlag.RST | TcpFlag.ACK)];
  }

  /** #segment builds a segment from `from` at its next sequence number, acknowledging all the other side sent. */
  #segment(from: FlowSide, flags: number, payload: Uint8Array = Buffer.alloc(0), ack?: number): Buffer {
    const to = other(from);
    const id = this.#ipId[from];
    this.#ipId[from] = (id + 1) & 0xffff;
    return tcpPacket(
      this[from],
      this[to],
      { sequence: this.#next[from], acknowledgment: ack ?? this.#next[to], flags, window: this.#window },
      payload,
      id,
    );
  }
}

function other(side: FlowSide): FlowSide {
  return side === 'client' ? 'server' : 'client';
}
