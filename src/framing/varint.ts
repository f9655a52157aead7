/**
 * Unsigned varints (LEB128, as Protocol Buffers write them): seven bits per byte, least
 * significant group first, the high bit set on every byte but the last. Small numbers take one byte.
 */
import { ProtocolError, type SockkitError } from '../errors.js';

/** MAX_VARINT_BYTES is the longest varint accepted: ten bytes hold any 64-bit number. */
export const MAX_VARINT_BYTES = 10;

/** encodeVarint returns `value` as an unsigned varint. Throws RangeError unless it is a safe whole number ≥ 0. */
export function encodeVarint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint: ${value} is not a whole number from 0 to 2^53-1`);
  }
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/**
 * DecodedVarint is a decoded varint's value and the bytes it used. `atLeast` is set when decoding
 * stopped early at a bound: the varint goes on past `used`, and `value` is only a lower bound.
 */
export interface DecodedVarint {
  readonly value: number;
  readonly used: number;
  readonly atLeast?: true;
}

/**
 * decodeVarint reads an unsigned varint at the start of `buffer`: its value and the bytes it used,
 * or undefined when the buffer ends before the varint does ("need more"). Values above
 * `stopAbove` are reported as soon as they are known, so a caller can reject a huge length
 * without reading all of it; when the varint goes on after that point, the result says `atLeast`.
 * Throws ERR_PROTOCOL for a varint longer than ten bytes, or one whose value is past 2^53-1.
 */
export function decodeVarint(
  buffer: Uint8Array,
  stopAbove = Number.MAX_SAFE_INTEGER,
): DecodedVarint | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < buffer.length && i < MAX_VARINT_BYTES; i++) {
    const byte = buffer[i] as number;
    const more = (byte & 0x80) !== 0;
    value += (byte & 0x7f) * scale;
    // Every term is exact, so a sum that is no longer a safe integer is at least 2^53: that is all we know.
    if (!Number.isSafeInteger(value)) {
      throw varintError('length out of range', 'a varint of at least 2^53 (the largest read is 2^53-1)');
    }
    if (!more) return { value, used: i + 1 };
    if (value > stopAbove) return { value, used: i + 1, atLeast: true };
    scale *= 0x80;
  }
  if (buffer.length >= MAX_VARINT_BYTES) {
    throw varintError('malformed length', `a varint longer than ${MAX_VARINT_BYTES} bytes`);
  }
  return undefined;
}

function varintError(problem: string, what: string): SockkitError {
  return new ProtocolError('decode', 'varint', `${problem}: ${what}`);
}
