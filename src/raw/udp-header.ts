/**
 * The UDP header (RFC 768): enough to read the first 8 bytes of a datagram that an ICMP error
 * quotes back, such as the port unreachable a closed UDP port provokes.
 */
import { PacketError } from '../errors.js';

/** UdpHeader is a decoded UDP header. */
export interface UdpHeader {
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** Length of header and data, as the header states it. */
  readonly length: number;
  readonly checksum: number;
}

/** UDP_HEADER is the length of the UDP header. */
export const UDP_HEADER = 8;

/** decodeUdpHeader reads the 8-byte UDP header at the start of `bytes`. Throws PacketError when shorter. */
export function decodeUdpHeader(bytes: Uint8Array): { value: UdpHeader; used: number } {
  if (bytes.length < UDP_HEADER) {
    throw new PacketError('decode udp', `truncated header: ${bytes.length} bytes, need ${UDP_HEADER}`);
  }
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    value: {
      sourcePort: data.readUInt16BE(0),
      destinationPort: data.readUInt16BE(2),
      length: data.readUInt16BE(4),
      checksum: data.readUInt16BE(6),
    },
    used: UDP_HEADER,
  };
}
