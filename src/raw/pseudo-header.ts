/**
 * The pseudo-header that TCP and UDP checksums cover besides the segment itself: the addresses,
 * the protocol and the length, so a segment delivered to the wrong host fails its checksum.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { internetChecksum } from './checksum.js';
import { ipv6ToBytes } from './ip-address.js';

/** Protocol numbers of the transports sockkit probes with (IANA). */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/**
 * pseudoHeader returns the pseudo-header for a segment of `length` bytes of `protocol` from
 * `source` to `destination`: 12 bytes for IPv4 (RFC 793 section 3.1, RFC 768), 40 for IPv6
 * (RFC 8200 section 8.1). Throws TypeError when the two addresses are not IP literals of one family.
 */
export function pseudoHeader(source: string, destination: string, protocol: number, length: number): Buffer {
  if (isIPv4(source) && isIPv4(destination)) {
    const header = Buffer.alloc(12);
    source.split('.').forEach((byte, i) => {
      header[i] = Number(byte);
    });
    destination.split('.').forEach((byte, i) => {
      header[4 + i] = Number(byte);
    });
    header[9] = protocol;
    header.writeUInt16BE(length, 10);
    return header;
  }
  if (isIPv6(source.replace(/%.*$/, '')) && isIPv6(destination.replace(/%.*$/, ''))) {
    const header = Buffer.alloc(40);
    ipv6ToBytes(source).copy(header, 0);
    ipv6ToBytes(destination).copy(header, 16);
    header.writeUInt32BE(length, 32);
    header[39] = protocol;
    return header;
  }
  throw new TypeError(
    `a pseudo-header needs two IP addresses of one family, got ${source} and ${destination}`,
  );
}

/**
 * transportChecksum returns the checksum a TCP or UDP `segment` should carry, computed with its
 * checksum field (at `checksumAt`) taken as zero, over the pseudo-header too.
 */
export function transportChecksum(
  protocol: number,
  source: string,
  destination: string,
  segment: Uint8Array,
  checksumAt = protocol === IPPROTO_TCP ? 16 : 6,
): number {
  const copy = Buffer.from(segment);
  copy.writeUInt16BE(0, checksumAt);
  return internetChecksum(pseudoHeader(source, destination, protocol, copy.length), copy);
}
