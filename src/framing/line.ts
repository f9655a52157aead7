/**
 * lineCodec frames text as lines, the framing of chat, SMTP, Redis's inline commands and anything a
 * person types into `nc`.
 */
import { FrameTooLargeError } from '../errors.js';
import type { Codec, Decoded } from './codec.js';
import { toBytes } from './codec.js';
import { checkMaxFrameSize, DEFAULT_MAX_FRAME_SIZE } from './delimiter.js';

const LF = 0x0a;
const CR = 0x0d;

/** LineOptions tune lineCodec. */
export interface LineOptions {
  /** What `encode` ends each line with: `lf` (`\n`, the default) or `crlf` (`\r\n`). */
  readonly ending?: 'lf' | 'crlf' | undefined;
  /** The longest line, in bytes, not counting its ending. Default 64 KiB. */
  readonly maxLength?: number | undefined;
}

/**
 * lineCodec returns a Codec for lines. `decode` accepts both endings whatever `ending` says: a line
 * ends at LF, and a CR just before the LF is part of the ending, not of the line (the tolerant
 * reading RFC 9112 §2.2 recommends; telnet and Windows clients send CRLF). Hence a line cannot
 * hold LF, nor end with CR: `encode` throws RangeError for those. A line longer than `maxLength`
 * throws FrameTooLargeError as soon as it is seen to be, without buffering the rest of it.
 */
export function lineCodec(options: LineOptions = {}): Codec {
  const max = checkMaxFrameSize(options.maxLength ?? DEFAULT_MAX_FRAME_SIZE);
  const ending = Buffer.from(options.ending === 'crlf' ? '\r\n' : '\n');
  return {
    name: 'line',
    maxFrameSize: max,
    encode(frame) {
      const bytes = toBytes(frame);
      if (bytes.length > max) throw new FrameTooLargeError('encode', 'line', bytes.length, max);
      if (bytes.includes(LF)) throw new RangeError('line: a line must not contain a line feed');
      if (bytes[bytes.length - 1] === CR)
        throw new RangeError('line: a line must not end with a carriage return');
      return Buffer.concat([bytes, ending]);
    },
    decode(buffer): Decoded | undefined {
      // A line of `max` bytes plus CRLF spans max + 2 bytes: look no further than that.
      const at = buffer.subarray(0, max + 2).indexOf(LF);
      if (at >= 0) {
        const length = at > 0 && buffer[at - 1] === CR ? at - 1 : at;
        if (length > max) throw new FrameTooLargeError('decode', 'line', length, max);
        return { frame: buffer.subarray(0, length), used: at + 1 };
      }
      // No LF yet: the line is too long once it has more than `max` bytes, not counting a final
      // CR that may turn out to be the start of CRLF.
      const pending = buffer[buffer.length - 1] === CR ? buffer.length - 1 : buffer.length;
      if (pending > max) throw new FrameTooLargeError('decode', 'line', pending, max, true);
      return undefined;
    },
    mayEnd(chunk) {
      return chunk.includes(LF);
    },
    decodeEnd(rest) {
      const length = rest[rest.length - 1] === CR ? rest.length - 1 : rest.length;
      if (length > max) throw new FrameTooLargeError('decode', 'line', length, max);
      return rest.subarray(0, length);
    },
  };
}
