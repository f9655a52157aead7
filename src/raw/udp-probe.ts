/**
 * The UDP probe of a Paris traceroute: every probe of a trace carries the same ports and length,
 * so a load balancer hashing the flow sends them all down one path, and probes are told apart by
 * their checksum instead, which two payload bytes are chosen to produce (Augustin et al., "Avoiding
 * traceroute anomalies with Paris traceroute", IMC 2006). Pure: fields in, bytes out.
 */
import { internetChecksum } from './checksum.js';
import { IPPROTO_UDP, pseudoHeader } from './pseudo-header.js';
import { UDP_HEADER } from './udp-header.js';

/** UdpProbeFields are what a probe's sender chooses. */
export interface UdpProbeFields {
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** The checksum the probe must carry: its identifier, from 1 to 0xfffe. */
  readonly checksum: number;
  /** Payload bytes, at least 2 (the two that set the checksum); the rest are 0x00, 0x01, ... */
  readonly payloadLength: number;
}

/** MIN_UDP_PROBE_PAYLOAD is the fewest payload bytes a probe can have: the two that set its checksum. */
export const MIN_UDP_PROBE_PAYLOAD = 2;

/**
 * encodeUdpProbe builds a UDP datagram from `source` to `destination` whose checksum field holds
 * `checksum` and is correct (it covers the pseudo-header): the payload's first two bytes are
 * chosen to make it so. Throws RangeError for a port, checksum or length out of range (0 means
 * "no checksum" in UDP and 0xffff is how a computed 0 is sent, so neither can be an identifier).
 */
export function encodeUdpProbe(fields: UdpProbeFields, source: string, destination: string): Buffer {
  for (const [name, value, min, max] of [
    ['sourcePort', fields.sourcePort, 0, 0xffff],
    ['destinationPort', fields.destinationPort, 0, 0xffff],
    ['checksum', fields.checksum, 1, 0xfffe],
    ['payloadLength', fields.payloadLength, MIN_UDP_PROBE_PAYLOAD, 0xffff - UDP_HEADER],
  ] as const) {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new RangeError(`UDP probe ${name} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  const datagram = Buffer.alloc(UDP_HEADER + fields.payloadLength);
  datagram.writeUInt16BE(fields.sourcePort, 0);
  datagram.writeUInt16BE(fields.destinationPort, 2);
  datagram.writeUInt16BE(datagram.length, 4);
  for (let i = UDP_HEADER + 2; i < datagram.length; i++) datagram[i] = (i - UDP_HEADER) & 0xff;
  // With the checksum field holding the wanted value W and the two free bytes X, the one's
  // complement sum of everything must be 0xffff. So X = ~(sum of the rest, W included).
  datagram.writeUInt16BE(fields.checksum, 6);
  const pseudo = pseudoHeader(source, destination, IPPROTO_UDP, datagram.length);
  datagram.writeUInt16BE(internetChecksum(pseudo, datagram), UDP_HEADER);
  return datagram;
}
