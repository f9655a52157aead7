/**
 * TCP headers (RFC 9293 section 3.1): the SYN a TCP traceroute sends, and the answers it reads,
 * a SYN-ACK from an open port or a RST from a closed one. Pure functions: bytes in, values out.
 */
import { PacketError } from '../errors.js';
import { IPPROTO_TCP, transportChecksum } from './pseudo-header.js';

/** TcpFlag holds the bits of the TCP flags byte. */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20 } as const;

/** TCP_MIN_HEADER is the length of a TCP header without options. */
export const TCP_MIN_HEADER = 20;

/** TcpHeader is a decoded TCP header. */
export interface TcpHeader {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly sequence: number;
  readonly acknowledgment: number;
  /** Header length in bytes (data offset × 4): 20 without options, up to 60. */
  readonly headerLength: number;
  /** The flags byte; test it with TcpFlag. */
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
}

/** SynFields are what a SYN's sender chooses. */
export interface SynFields {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly sequence: number;
  /** The maximum segment size option's value; 1460 by default. Some middleboxes drop SYNs without one. */
  readonly mss?: number | undefined;
}

/** SYN_LENGTH is the length of the SYN encodeSyn builds: the header and its MSS option. */
export const SYN_LENGTH = 24;

/**
 * encodeSyn builds a TCP SYN from `source` to `destination` (IP literals of one family), checksum
 * included (it covers the pseudo-header): 24 bytes, the header and an MSS option, window 64240.
 * Throws RangeError for a port or sequence out of range.
 */
export function encodeSyn(fields: SynFields, source: string, destination: string): Buffer {
  for (const [name, value, max] of [
    ['sourcePort', fields.sourcePort, 0xffff],
    ['destinationPort', fields.destinationPort, 0xffff],
    ['sequence', fields.sequence, 0xffffffff],
    ['mss', fields.mss ?? 1460, 0xffff],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw new RangeError(`TCP ${name} must be a whole number from 0 to ${max}, got ${value}`);
  }
  const segment = Buffer.alloc(SYN_LENGTH);
  segment.writeUInt16BE(fields.sourcePort, 0);
  segment.writeUInt16BE(fields.destinationPort, 2);
  segment.writeUInt32BE(fields.sequence, 4);
  segment[12] = (SYN_LENGTH / 4) << 4;
  segment[13] = TcpFlag.SYN;
  segment.writeUInt16BE(64_240, 14);
  // Option: kind 2 (MSS), length 4, value.
  segment[20] = 2;
  segment[21] = 4;
  segment.writeUInt16BE(fields.mss ?? 1460, 22);
  segment.writeUInt16BE(transportChecksum(IPPROTO_TCP, source, destination, segment), 16);
  return segment;
}

/**
 * decodeTcpHeader reads the TCP header at the start of `bytes`; `used` is its length. Throws
 * PacketError when the bytes are shorter than the header or its data offset is below 5 words.
 */
export function decodeTcpHeader(bytes: Uint8Array): { value: TcpHeader; used: number } {
  const op = 'decode tcp';
  if (bytes.length < TCP_MIN_HEADER) {
    throw new PacketError(op, `truncated header: ${bytes.length} bytes, need at least ${TCP_MIN_HEADER}`);
  }
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = ((data[12] as number) >> 4) * 4;
  if (headerLength < TCP_MIN_HEADER)
    throw new PacketError(op, `data offset ${headerLength} is below the minimum of ${TCP_MIN_HEADER}`);
  if (data.length < headerLength)
    throw new PacketError(op, `truncated header: ${data.length} bytes, the header says ${headerLength}`);
  return {
    value: {
      sourcePort: data.readUInt16BE(0),
      destinationPort: data.readUInt16BE(2),
      sequence: data.readUInt32BE(4),
      acknowledgment: data.readUInt32BE(8),
      headerLength,
      flags: data[13] as number,
      window: data.readUInt16BE(14),
      checksum: data.readUInt16BE(16),
    },
    used: headerLength,
  };
}

/** QuotedTcp is what an ICMP error quotes of a TCP segment: its first 8 bytes. */
export interface QuotedTcp {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly sequence: number;
}

/**
 * decodeQuotedTcp reads the ports and sequence number from the first 8 bytes of a TCP segment,
 * which is all an ICMPv4 error must quote (RFC 792). Throws PacketError when fewer are given.
 */
export function decodeQuotedTcp(bytes: Uint8Array): QuotedTcp {
  if (bytes.length < 8)
    throw new PacketError(
      'decode tcp',
      `truncated quote: ${bytes.length} bytes, need 8 for ports and sequence`,
    );
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    sourcePort: data.readUInt16BE(0),
    destinationPort: data.readUInt16BE(2),
    sequence: data.readUInt32BE(4),
  };
}
