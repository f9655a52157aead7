/**
 * IPv4 and IPv6 packets carrying a TCP segment or a UDP datagram, built whole with correct
 * checksums: what a capture file shows for traffic sockkit only saw as a byte stream. Pure
 * functions; the kernel never sees these packets.
 */
import { internetChecksum } from '../raw/checksum.js';
import { IPPROTO_TCP, IPPROTO_UDP, pseudoHeader } from '../raw/pseudo-header.js';

/** PacketEndpoint is one end of a flow: an IP literal and a port. A datagram's `Peer` is one. */
export interface PacketEndpoint {
  readonly address: string;
  readonly port: number;
}

/** TcpSegmentFields are the TCP header fields (RFC 9293 section 3.1) a synthesized segment sets. */
export interface TcpSegmentFields {
  readonly sequence: number;
  readonly acknowledgment: number;
  /** The flags byte; build it with TcpFlag. */
  readonly flags: number;
  readonly window: number;
}

/** IP_TTL is the TTL (IPv4) or hop limit (IPv6) of every synthesized packet: Linux's default. */
const IP_TTL = 64;

/**
 * tcpPacket builds the IP packet carrying a TCP segment with `fields` and `payload` from `source`
 * to `destination` (IP literals of one family): a 20-byte TCP header without options, its
 * checksum computed over the pseudo-header. `identification` is the IPv4 header's (ignored for
 * IPv6). Throws TypeError when the addresses are not IP literals of one family.
 */
export function tcpPacket(
  source: PacketEndpoint,
  destination: PacketEndpoint,
  fields: TcpSegmentFields,
  payload: Uint8Array,
  identification = 0,
): Buffer {
  const segment = Buffer.alloc(20 + payload.length);
  segment.writeUInt16BE(source.port, 0);
  segment.writeUInt16BE(destination.port, 2);
  segment.writeUInt32BE(fields.sequence >>> 0, 4);
  segment.writeUInt32BE(fields.acknowledgment >>> 0, 8);
  segment[12] = 5 << 4; // data offset: 5 words, no options
  segment[13] = fields.flags;
  segment.writeUInt16BE(fields.window, 14);
  segment.set(payload, 20);
  return ipPacket(source.address, destination.address, IPPROTO_TCP, segment, 16, identification);
}

/**
 * udpPacket builds the IP packet carrying a UDP datagram of `payload` from `source` to
 * `destination` (RFC 768), its checksum computed over the pseudo-header (a computed 0 is sent
 * as 0xffff, since 0 means "no checksum"). Throws as tcpPacket does.
 */
export function udpPacket(
  source: PacketEndpoint,
  destination: PacketEndpoint,
  payload: Uint8Array,
  identification = 0,
): Buffer {
  const datagram = Buffer.alloc(8 + payload.length);
  datagram.writeUInt16BE(source.port, 0);
  datagram.writeUInt16BE(destination.port, 2);
  datagram.writeUInt16BE(datagram.length & 0xffff, 4);
  datagram.set(payload, 8);
  return ipPacket(source.address, destination.address, IPPROTO_UDP, datagram, 6, identification);
}

/**
 * ipPacket fills the transport checksum at `checksumAt` of `transport` (zero there on entry) and
 * puts it behind an IPv4 header (RFC 791 section 3.1: no options, DF set, its own checksum) or
 * an IPv6 header (RFC 8200 section 3), whichever family the addresses are.
 */
function ipPacket(
  source: string,
  destination: string,
  protocol: number,
  transport: Buffer,
  checksumAt: number,
  identification: number,
): Buffer {
  // The pseudo-header holds the addresses as bytes too: IPv4 at 0 and 4, IPv6 at 0 and 16.
  const pseudo = pseudoHeader(source, destination, protocol, transport.length);
  const checksum = internetChecksum(pseudo, transport);
  transport.writeUInt16BE(protocol === IPPROTO_UDP && checksum === 0 ? 0xffff : checksum, checksumAt);
  if (pseudo.length === 12) {
    const header = Buffer.alloc(20);
    header[0] = 0x45; // version 4, header length 5 words
    header.writeUInt16BE(20 + transport.length, 2);
    header.writeUInt16BE(identification & 0xffff, 4);
    header.writeUInt16BE(0x4000, 6); // DF, fragment offset 0
    header[8] = IP_TTL;
    header[9] = protocol;
    pseudo.copy(header, 12, 0, 8);
    header.writeUInt16BE(internetChecksum(header), 10);
    return Buffer.concat([header, transport]);
  }
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  header.writeUInt16BE(transport.length, 4);
  header[6] = protocol;
  header[7] = IP_TTL;
  pseudo.copy(header, 8, 0, 32);
  return Buffer.concat([header, transport]);
}
