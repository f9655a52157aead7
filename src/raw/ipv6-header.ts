/**
 * The fixed IPv6 header (RFC 8200 section 3). Raw ICMPv6 sockets never deliver it (the kernel
 * strips it, RFC 3542 section 3), but every ICMPv6 error quotes the packet that caused it.
 */
import { PacketError } from '../errors.js';
import { ipv6FromBytes } from './ip-address.js';

/** IPv6Header is a decoded fixed IPv6 header. */
export interface IPv6Header {
  readonly version: 6;
  readonly trafficClass: number;
  readonly flowLabel: number;
  /** Length of what follows the fixed header, extension headers included. */
  readonly payloadLength: number;
  /** The next header's protocol number: 58 ICMPv6, 17 UDP, 6 TCP, or an extension header. */
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: string;
  readonly destination: string;
}

/** IPV6_HEADER is the length of the fixed IPv6 header. */
export const IPV6_HEADER = 40;

/**
 * decodeIPv6Header reads the fixed IPv6 header at the start of `bytes`; `used` is 40. Throws
 * PacketError when fewer than 40 bytes are given or the version is not 6.
 */
export function decodeIPv6Header(bytes: Uint8Array): { value: IPv6Header; used: number } {
  const op = 'decode ipv6';
  if (bytes.length < IPV6_HEADER) {
    throw new PacketError(op, `truncated header: ${bytes.length} bytes, need ${IPV6_HEADER}`);
  }
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = data.readUInt32BE(0);
  const version = first >>> 28;
  if (version !== 6) throw new PacketError(op, `version is ${version}, not 6`);
  return {
    value: {
      version: 6,
      trafficClass: (first >>> 20) & 0xff,
      flowLabel: first & 0xfffff,
      payloadLength: data.readUInt16BE(4),
      nextHeader: data.readUInt8(6),
      hopLimit: data.readUInt8(7),
      source: ipv6FromBytes(data, 8),
      destination: ipv6FromBytes(data, 24),
    },
    used: IPV6_HEADER,
  };
}
