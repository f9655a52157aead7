/**
 * The bytes of iperf3's UDP streams: every datagram starts with the sender's clock (seconds and
 * microseconds) and a sequence number, 32-bit big-endian each, or a 64-bit sequence number when
 * the test asked for `udp_counters_64bit`: 12 or 16 bytes. Before the test, each stream says
 * hello with one 4-byte datagram and waits for the server's 4-byte reply.
 */

/** UDP_CONNECT_MESSAGE is what a client sends to open a UDP stream (ASCII "9876", iperf3 3.16's bytes). */
export const UDP_CONNECT_MESSAGE = Buffer.from([0x39, 0x38, 0x37, 0x36]);
/** UDP_CONNECT_REPLY is the server's answer (ASCII "6789"). iperf3 before 3.16 reads any 4 bytes. */
export const UDP_CONNECT_REPLY = Buffer.from([0x36, 0x37, 0x38, 0x39]);
/** LEGACY_UDP_CONNECT_REPLY is what iperf3 servers before 3.16 send (987654321, little-endian). */
export const LEGACY_UDP_CONNECT_REPLY = Buffer.from([0xb1, 0x68, 0xde, 0x3a]);

/** isConnectReply tells whether a datagram is a server's answer to UDP_CONNECT_MESSAGE (either form). */
export function isConnectReply(datagram: Buffer): boolean {
  return (
    datagram.length === 4 && (datagram.equals(UDP_CONNECT_REPLY) || datagram.equals(LEGACY_UDP_CONNECT_REPLY))
  );
}

/** IperfUdpHeader is the start of one data datagram. */
export interface IperfUdpHeader {
  readonly seconds: number;
  readonly microseconds: number;
  /** The sequence number: 1 for the first datagram of a stream. */
  readonly sequence: number;
}

/** udpHeaderSize is 12 bytes, or 16 with 64-bit counters. */
export function udpHeaderSize(counters64bit: boolean): number {
  return counters64bit ? 16 : 12;
}

/**
 * writeUdpHeader writes `header` at the start of `datagram` (which the sender reuses for every
 * packet). Throws RangeError when the datagram is shorter than the header.
 */
export function writeUdpHeader(datagram: Buffer, header: IperfUdpHeader, counters64bit: boolean): void {
  if (datagram.length < udpHeaderSize(counters64bit))
    throw new RangeError('datagram shorter than its header');
  datagram.writeUInt32BE(header.seconds >>> 0, 0);
  datagram.writeUInt32BE(header.microseconds >>> 0, 4);
  if (counters64bit) datagram.writeBigUInt64BE(BigInt(header.sequence), 8);
  else datagram.writeUInt32BE(header.sequence >>> 0, 8);
}

/** readUdpHeader reads the header of a data datagram, or returns undefined when it is too short to hold one. */
export function readUdpHeader(datagram: Buffer, counters64bit: boolean): IperfUdpHeader | undefined {
  if (datagram.length < udpHeaderSize(counters64bit)) return undefined;
  return {
    seconds: datagram.readUInt32BE(0),
    microseconds: datagram.readUInt32BE(4),
    sequence: counters64bit ? Number(datagram.readBigUInt64BE(8)) : datagram.readUInt32BE(8),
  };
}
