/**
 * How large one UDP datagram can be. The IP length field is 16 bits: IPv4 leaves 65,535 − 20 (IP
 * header) − 8 (UDP header) = 65,507 bytes of payload; IPv6's payload length excludes its own
 * header, leaving 65,535 − 8 = 65,527. Larger messages cannot be sent as one datagram (jumbograms
 * aside), and sockkit says so instead of truncating or splitting them.
 */
import { MessageTooLargeError, type SockkitError } from '../errors.js';
import { formatBytes } from '../units.js';

/** MAX_DATAGRAM_IPV4 is the largest UDP payload over IPv4, in bytes. */
export const MAX_DATAGRAM_IPV4 = 65_507;
/** MAX_DATAGRAM_IPV6 is the largest UDP payload over IPv6, in bytes. */
export const MAX_DATAGRAM_IPV6 = 65_527;

/** maxDatagramSize is the largest UDP payload for IP version `family`. */
export function maxDatagramSize(family: 4 | 6): number {
  return family === 4 ? MAX_DATAGRAM_IPV4 : MAX_DATAGRAM_IPV6;
}

/** byteSize counts the bytes `data` takes on the wire (strings as UTF-8). */
export function byteSize(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/**
 * tooLarge builds the `ERR_MESSAGE_TOO_LARGE` error for a message of `size` bytes sent by `op` to
 * `url`: `send udp://127.0.0.1:7: message of 70000 bytes exceeds the largest UDP datagram over IPv4 (65507 bytes)`.
 */
export function tooLarge(op: string, url: string, size: number, family: 4 | 6): SockkitError {
  return new MessageTooLargeError(
    op,
    url,
    `message of ${size} bytes (${formatBytes(size)}) exceeds the largest UDP datagram over IPv${family} ` +
      `(${maxDatagramSize(family)} bytes); it is not truncated`,
  );
}
