/**
 * lengthPrefixCodec frames binary messages by writing each one's length before it: one, two or
 * four bytes big-endian (network byte order), or an unsigned varint. Most binary protocols do
 * this (DNS over TCP uses two bytes, RFC 1035 §4.2.2; Kafka four; gRPC and protobuf streams varints).
 */
import { FrameTooLargeError } from '../errors.js';
import { type Codec, type Decoded, toBytes } from './codec.js';
import { checkMaxFrameSize, DEFAULT_MAX_FRAME_SIZE, truncatedError } from './delimiter.js';
import { decodeVarint, encodeVarint } from './varint.js';

/** LengthPrefix names a length header: big-endian of 1, 2 or 4 bytes, or an unsigned varint. */
export type LengthPrefix = 'len8' | 'len16' | 'len32' | 'varint';

/** The largest length each fixed-size header can hold. */
const headerLimit: Record<LengthPrefix, number> = {
  len8: 0xff,
  len16: 0xffff,
  len32: 0xffff_ffff,
  varint: Number.MAX_SAFE_INTEGER,
};

/** LengthPrefixOptions tune lengthPrefixCodec. */
export interface LengthPrefixOptions {
  /**
   * The largest frame, in bytes, not counting the header. Default 64 KiB, or the header's own
   * limit when that is smaller (255 for len8).
   */
  readonly maxFrameSize?: number | undefined;
}

/**
 * lengthPrefixCodec returns a Codec whose frames are a length header then that many bytes. The
 * header's length counts the payload only. A header announcing more than `maxFrameSize` throws
 * FrameTooLargeError at once, before any of the payload is buffered; a stream that ends inside a
 * frame throws ERR_PROTOCOL from `decodeEnd`. Throws RangeError if `maxFrameSize` is more than the
 * header can express.
 */
export function lengthPrefixCodec(prefix: LengthPrefix, options: LengthPrefixOptions = {}): Codec {
  const limit = headerLimit[prefix];
  if (limit === undefined) throw new RangeError(`unknown length prefix ${JSON.stringify(prefix)}`);
  const max = checkMaxFrameSize(options.maxFrameSize ?? Math.min(DEFAULT_MAX_FRAME_SIZE, limit));
  if (max > limit)
    throw new RangeError(`${prefix}: maxFrameSize ${max} is more than its header can hold (${limit})`);
  return {
    name: prefix,
    maxFrameSize: max,
    encode(frame) {
      const bytes = toBytes(frame);
      if (bytes.length > max) throw new FrameTooLargeError('encode', prefix, bytes.length, max);
      return Buffer.concat([header(prefix, bytes.length), bytes]);
    },
    decode(buffer): Decoded | undefined {
      const head = readHeader(prefix, buffer, max);
      if (!head) return undefined;
      if (head.length > max) throw new FrameTooLargeError('decode', prefix, head.length, max, head.atLeast);
      const end = head.used + head.length;
      if (buffer.length < end) return undefined;
      return { frame: buffer.subarray(head.used, end), used: end };
    },
    decodeEnd(rest) {
      throw truncatedError(prefix, rest.length);
    },
    frameSize(buffer) {
      const head = readHeader(prefix, buffer, max);
      return head && head.used + head.length;
    },
  };
}

function header(prefix: LengthPrefix, length: number): Buffer {
  if (prefix === 'varint') return encodeVarint(length);
  const size = prefix === 'len8' ? 1 : prefix === 'len16' ? 2 : 4;
  const bytes = Buffer.alloc(size);
  bytes.writeUIntBE(length, 0, size);
  return bytes;
}

function readHeader(
  prefix: LengthPrefix,
  buffer: Buffer,
  max: number,
): { length: number; used: number; atLeast?: boolean } | undefined {
  if (prefix === 'varint') {
    const varint = decodeVarint(buffer, max);
    // A header cut short at the limit gives only a lower bound of the length.
    return varint && { length: varint.value, used: varint.used, atLeast: varint.atLeast === true };
  }
  const size = prefix === 'len8' ? 1 : prefix === 'len16' ? 2 : 4;
  if (buffer.length < size) return undefined;
  return { length: buffer.readUIntBE(0, size), used: size };
}
