/**
 * The Internet checksum (RFC 1071) that IPv4 headers, ICMPv4 and ICMPv6 all carry: the one's
 * complement of the one's complement sum of the data taken as 16-bit big-endian words.
 */
import { isIPv6 } from 'node:net';
import { ipv6ToBytes } from './ip-address.js';

/**
 * internetChecksum returns the RFC 1071 checksum of `parts` taken as one byte sequence. An odd
 * total length is padded with a zero byte at the end, as RFC 1071 section 4.1 does. Computing it
 * over data that already holds its correct checksum yields 0, which is how receivers verify.
 */
export function internetChecksum(...parts: readonly Uint8Array[]): number {
  let sum = 0;
  let pending = -1; // a byte carried over when a part has odd length, waiting for its low half
  for (const part of parts) {
    let i = 0;
    if (pending >= 0 && part.length > 0) {
      sum += (pending << 8) | (part[0] as number);
      pending = -1;
      i = 1;
    }
    // Two bytes a step: a capture checksums every byte it writes (src/capture).
    const end = i + ((part.length - i) & ~1);
    for (; i < end; i += 2) sum += ((part[i] as number) << 8) | (part[i + 1] as number);
    if (i < part.length) pending = part[i] as number;
    // Fold often enough that the sum never leaves the safe integer range (RFC 1071 section 2(C)).
    sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  if (pending >= 0) sum += pending << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * icmpv6PseudoHeader returns the 40-byte IPv6 pseudo-header (RFC 8200 section 8.1) that the
 * ICMPv6 checksum covers (RFC 4443 section 2.3): source, destination, upper-layer length and
 * next header 58. Throws TypeError when either address is not an IPv6 literal.
 */
export function icmpv6PseudoHeader(source: string, destination: string, length: number): Buffer {
  if (!isIPv6(source) || !isIPv6(destination)) {
    throw new TypeError(
      `the ICMPv6 pseudo-header needs two IPv6 addresses, got ${source} and ${destination}`,
    );
  }
  const header = Buffer.alloc(40);
  ipv6ToBytes(source).copy(header, 0);
  ipv6ToBytes(destination).copy(header, 16);
  header.writeUInt32BE(length, 32);
  header[39] = 58;
  return header;
}
