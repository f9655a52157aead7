/**
 * The IPv4 header (RFC 791 section 3.1). Raw IPv4 sockets deliver it in front of every ICMP
 * message, and ICMP errors quote one back; sockkit only reads it, the kernel writes ours.
 */
import { PacketError } from '../errors.js';
import { internetChecksum } from './checksum.js';
import { ipv4FromBytes } from './ip-address.js';

/** IPv4Header is a decoded IPv4 header. */
export interface IPv4Header {
  readonly version: 4;
  /** Header length in bytes (IHL × 4): 20 without options, up to 60. */
  readonly headerLength: number;
  /** The type-of-service byte: DSCP in the upper six bits, ECN in the lower two. */
  readonly tos: number;
  /** Length of the whole datagram, header included, as the header states it. */
  readonly totalLength: number;
  readonly identification: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  /** The payload's protocol number: 1 ICMP, 6 TCP, 17 UDP. */
  readonly protocol: number;
  readonly checksum: number;
  /** True when the header checksum verifies (RFC 791: computed over the header only). */
  readonly checksumValid: boolean;
  readonly source: string;
  readonly destination: string;
}

/** IPV4_MIN_HEADER is the length of an IPv4 header without options. */
export const IPV4_MIN_HEADER = 20;

/**
 * decodeIPv4Header reads the IPv4 header at the start of `bytes` and returns it with `used`, the
 * offset where the payload starts. Throws PacketError when the bytes are too short, the version
 * is not 4 or the header length is below 20. The checksum is reported, not enforced: a quoted
 * header inside an ICMP error may legitimately differ (a router decremented its TTL).
 */
export function decodeIPv4Header(bytes: Uint8Array): { value: IPv4Header; used: number } {
  const op = 'decode ipv4';
  if (bytes.length < IPV4_MIN_HEADER) {
    throw new PacketError(op, `truncated header: ${bytes.length} bytes, need at least ${IPV4_MIN_HEADER}`);
  }
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = data.readUInt8(0) >> 4;
  if (version !== 4) throw new PacketError(op, `version is ${version}, not 4`);
  const headerLength = (data.readUInt8(0) & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER) {
    throw new PacketError(op, `header length ${headerLength} is below the minimum of ${IPV4_MIN_HEADER}`);
  }
  if (data.length < headerLength) {
    throw new PacketError(op, `truncated header: ${data.length} bytes, the header says ${headerLength}`);
  }
  const flags = data.readUInt16BE(6);
  return {
    value: {
      version: 4,
      headerLength,
      tos: data.readUInt8(1),
      totalLength: data.readUInt16BE(2),
      identification: data.readUInt16BE(4),
      dontFragment: (flags & 0x4000) !== 0,
      moreFragments: (flags & 0x2000) !== 0,
      fragmentOffset: (flags & 0x1fff) * 8,
      ttl: data.readUInt8(8),
      protocol: data.readUInt8(9),
      checksum: data.readUInt16BE(10),
      checksumValid: internetChecksum(data.subarray(0, headerLength)) === 0,
      source: ipv4FromBytes(data, 12),
      destination: ipv4FromBytes(data, 16),
    },
    used: headerLength,
  };
}
