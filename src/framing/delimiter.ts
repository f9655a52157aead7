/**
 * delimiterCodec frames messages by ending each with a delimiter, the oldest framing there is:
 * lines end with `\n`, Redis's RESP with `\r\n`, some feeds with a NUL byte.
 */
import { FrameTooLargeError, ProtocolError, type SockkitError } from '../errors.js';
import { type Codec, type Decoded, toBytes } from './codec.js';

/** DEFAULT_MAX_FRAME_SIZE bounds a frame when the caller does not: 64 KiB. */
export const DEFAULT_MAX_FRAME_SIZE = 64 * 1024;

/** DelimiterOptions tune delimiterCodec. */
export interface DelimiterOptions {
  /** The largest frame, in bytes, not counting the delimiter. Default 64 KiB. */
  readonly maxFrameSize?: number | undefined;
  /** The codec's name in messages. Default `delimiter`. */
  readonly name?: string | undefined;
}

/**
 * delimiterCodec returns a Codec whose frames end with `delimiter` (one or more bytes). The
 * delimiter is not part of the decoded frame. A frame that holds the delimiter cannot be encoded
 * (RangeError), nor one whose last bytes make a delimiter with the start of the one appended
 * (possible only for a delimiter that overlaps itself, such as `\r\n\r\n`). At the end of a
 * stream, bytes without a delimiter are a last frame, as a file's last line need not end with a
 * newline. Throws RangeError for an empty delimiter or a bad maximum.
 */
export function delimiterCodec(delimiter: Uint8Array | string, options: DelimiterOptions = {}): Codec {
  const end = Buffer.from(toBytes(delimiter));
  if (end.length === 0) throw new RangeError('delimiterCodec: the delimiter must not be empty');
  const max = checkMaxFrameSize(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE);
  const name = options.name ?? 'delimiter';
  return {
    name,
    maxFrameSize: max,
    encode(frame) {
      const bytes = toBytes(frame);
      if (bytes.length > max) throw new FrameTooLargeError('encode', name, bytes.length, max);
      const encoded = Buffer.concat([bytes, end]);
      // The first delimiter must be the one appended. A frame may also make one with the
      // delimiter's start when the delimiter overlaps itself: with `\r\n\r\n`, `a\r\n` would
      // be read back as `a`, and the rest as the start of the next frame.
      if (encoded.indexOf(end) !== bytes.length)
        throw new RangeError(
          `${name}: a frame must not contain its delimiter, nor end in bytes that make one with it`,
        );
      return encoded;
    },
    decode(buffer): Decoded | undefined {
      // Search no further than a frame of `max` bytes could reach: an attacker's endless line
      // costs one bounded scan, and is rejected as soon as it is longer than `max`.
      const at = buffer.subarray(0, max + end.length).indexOf(end);
      if (at >= 0) return { frame: buffer.subarray(0, at), used: at + end.length };
      if (buffer.length >= max + end.length) throw new FrameTooLargeError('decode', name, max + 1, max, true);
      return undefined;
    },
    mayEnd(chunk) {
      // The delimiter may have started in an earlier chunk, but it ends in this one.
      return chunk.includes(end[end.length - 1] as number);
    },
    decodeEnd(rest) {
      if (rest.length > max) throw new FrameTooLargeError('decode', name, rest.length, max);
      return rest;
    },
  };
}

/** checkMaxFrameSize returns `max` if it is a whole number of at least 1; otherwise throws RangeError. */
export function checkMaxFrameSize(max: number): number {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`maxFrameSize must be a whole number of bytes, at least 1 (got ${max})`);
  }
  return max;
}

/** truncatedError reports a stream that ended in the middle of a frame. */
export function truncatedError(name: string, rest: number): SockkitError {
  return new ProtocolError('decode', name, `stream ended in the middle of a frame (${rest} bytes left over)`);
}
