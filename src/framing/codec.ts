/**
 * Codec is the shape every framing codec shares: a byte stream has no message boundaries, so a
 * protocol adds them, and a codec is the pure function pair that writes and finds them. No socket
 * in sight: `encode(frame) → bytes`, `decode(bytes) → { frame, used }` or "need more".
 */

/** Decoded is one frame found at the start of a buffer, and how many bytes of the buffer it used. */
export interface Decoded {
  readonly frame: Buffer;
  /** Bytes consumed from the start of the buffer: the frame and its header or delimiter. */
  readonly used: number;
}

/**
 * Codec frames messages on a byte stream. Implementations are pure and keep no state between
 * calls, so one codec can serve any number of connections.
 */
export interface Codec {
  /** The codec's name, as `--frame` spells it: `line`, `len16`, `varint`, `delimiter`. */
  readonly name: string;
  /** The largest frame, in bytes, that `decode` accepts and `encode` writes. */
  readonly maxFrameSize: number;
  /**
   * encode returns `frame` with its framing added. Throws FrameTooLargeError for a frame over
   * `maxFrameSize`, and RangeError for a frame the codec cannot represent (a line holding its delimiter).
   */
  encode(frame: Uint8Array | string): Buffer;
  /**
   * decode finds the first frame at the start of `buffer`. It returns undefined when `buffer` holds
   * no complete frame yet ("need more": not an error), and throws FrameTooLargeError as soon as the
   * frame is known to exceed `maxFrameSize`, without waiting for the rest of it.
   */
  decode(buffer: Buffer): Decoded | undefined;
  /**
   * decodeEnd handles the bytes left over when the stream ends (`rest` is non-empty and `decode`
   * found no frame in it). A line codec returns them as a last, unterminated line; a
   * length-prefixed codec throws ERR_PROTOCOL, since the frame was cut short.
   */
  decodeEnd(rest: Buffer): Buffer;
  /**
   * frameSize, when a codec can tell, returns the total bytes (header included) of the frame that
   * starts `buffer`, once its header is complete; undefined otherwise. A Deframer uses it to
   * gather a large frame's chunks without copying them on every read. Optional.
   */
  frameSize?(buffer: Buffer): number | undefined;
  /**
   * mayEnd, when a codec can tell, returns false if no frame can end inside `chunk` (a chunk
   * without a line feed ends no line), so a Deframer need not look again. Optional.
   */
  mayEnd?(chunk: Buffer): boolean;
}

/** toBytes views a frame given as a string (UTF-8) or bytes as a Buffer, without copying bytes. */
export function toBytes(frame: Uint8Array | string): Buffer {
  if (typeof frame === 'string') return Buffer.from(frame, 'utf8');
  return Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
}
