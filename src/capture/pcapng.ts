/**
 * The pcapng capture file format (draft-ietf-opsawg-pcapng, "PCAP Next Generation Dump File
 * Format"), as far as a writer needs it: a Section Header Block, one Interface Description Block
 * and an Enhanced Packet Block per packet. Pure encoders: values in, bytes out. Every block is
 * little-endian (a reader learns the order from the byte-order magic), and complete in itself, so
 * a file cut after any block is still a valid capture.
 */

/** LINKTYPE_RAW (101): each packet starts with its IPv4 or IPv6 header, told apart by its version. */
export const LINKTYPE_RAW = 101;

/**
 * CAPTURE_SNAPLEN is the snapshot length the interface declares: libpcap's largest, above any
 * packet sockkit writes (an IPv6 packet carrying the largest UDP datagram is 65,575 bytes).
 */
export const CAPTURE_SNAPLEN = 262_144;

/** BlockType holds the block type codes (section 4 of the draft, and its block type registry). */
export const BlockType = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  enhancedPacket: 0x00000006,
} as const;

/** BYTE_ORDER_MAGIC is written in the Section Header Block in the writer's byte order (section 4.1). */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** OptionCode holds the option codes sockkit writes (sections 3.5, 4.1 and 4.2). */
export const OptionCode = {
  endOfOptions: 0,
  comment: 1,
  shbUserApplication: 4,
  ifName: 2,
  ifTimestampResolution: 9,
} as const;

/** PcapngOption is one option: its code and its value (a string is written as UTF-8). */
export interface PcapngOption {
  readonly code: number;
  readonly value: Uint8Array | string;
}

/**
 * encodeSectionHeader builds a Section Header Block (section 4.1): version 1.0, the byte-order
 * magic, a section length of -1 ("not specified", as a writer that streams does not know it),
 * and `options` (such as shb_userappl).
 */
export function encodeSectionHeader(options: readonly PcapngOption[] = []): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4); // major version
  body.writeUInt16LE(0, 6); // minor version
  body.writeBigInt64LE(-1n, 8); // section length: not specified
  return encodeBlock(BlockType.sectionHeader, body, options);
}

/**
 * encodeInterfaceDescription builds an Interface Description Block (section 4.2) for packets of
 * `linkType` cut at `snapLen` bytes. Without an if_tsresol option, timestamps are in microseconds.
 */
export function encodeInterfaceDescription(
  linkType: number,
  snapLen: number,
  options: readonly PcapngOption[] = [],
): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(linkType, 0);
  body.writeUInt16LE(0, 2); // reserved
  body.writeUInt32LE(snapLen, 4);
  return encodeBlock(BlockType.interfaceDescription, body, options);
}

/**
 * encodeEnhancedPacket builds an Enhanced Packet Block (section 4.3) holding all of `packet`,
 * seen on interface `interfaceId` at `timestamp` (in the interface's units, microseconds since
 * 1970 by default). Throws RangeError for a negative or fractional timestamp.
 */
export function encodeEnhancedPacket(interfaceId: number, timestamp: number, packet: Uint8Array): Buffer {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new RangeError(`a pcapng timestamp must be a whole number of units from 0, got ${timestamp}`);
  const padded = pad4(packet.length);
  const total = 28 + padded + 4;
  const block = Buffer.alloc(total);
  block.writeUInt32LE(BlockType.enhancedPacket, 0);
  block.writeUInt32LE(total, 4);
  block.writeUInt32LE(interfaceId, 8);
  block.writeUInt32LE(Math.floor(timestamp / 2 ** 32), 12); // timestamp, upper 32 bits
  block.writeUInt32LE(timestamp % 2 ** 32, 16); // timestamp, lower 32 bits
  block.writeUInt32LE(packet.length, 20); // captured packet length
  block.writeUInt32LE(packet.length, 24); // original packet length
  block.set(packet, 28);
  block.writeUInt32LE(total, total - 4);
  return block;
}

/**
 * encodeBlock frames `body` and `options` as a block of `type` (section 3.1): type, total length,
 * body, options (ended by opt_endofopt when there are any), total length again.
 */
function encodeBlock(type: number, body: Uint8Array, options: readonly PcapngOption[]): Buffer {
  const encoded = encodeOptions(options);
  const total = 8 + body.length + encoded.length + 4;
  const block = Buffer.alloc(total);
  block.writeUInt32LE(type, 0);
  block.writeUInt32LE(total, 4);
  block.set(body, 8);
  block.set(encoded, 8 + body.length);
  block.writeUInt32LE(total, total - 4);
  return block;
}

/** encodeOptions writes each option as code, length, value padded to 32 bits (section 3.5). */
function encodeOptions(options: readonly PcapngOption[]): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const { code, value } of options) {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    if (bytes.length > 0xffff)
      throw new RangeError(`a pcapng option holds at most 65535 bytes, got ${bytes.length}`);
    const option = Buffer.alloc(4 + pad4(bytes.length));
    option.writeUInt16LE(code, 0);
    option.writeUInt16LE(bytes.length, 2);
    option.set(bytes, 4);
    parts.push(option);
  }
  parts.push(Buffer.alloc(4)); // opt_endofopt: code 0, length 0
  return Buffer.concat(parts);
}

function pad4(length: number): number {
  return (length + 3) & ~3;
}
