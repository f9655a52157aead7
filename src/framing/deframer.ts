/**
 * Deframer turns a stream's chunks into frames with a Codec: it keeps the bytes of a frame that
 * has not fully arrived, and hands out every frame that has. It is still pure: no socket, no timers.
 */
import type { Codec } from './codec.js';

/**
 * Deframer accumulates chunks and yields the frames `codec` finds in them, in order. It never holds
 * more than one incomplete frame (at most the codec's `maxFrameSize` plus a header), plus the chunk
 * being read; the codec's errors (FrameTooLargeError, ERR_PROTOCOL) propagate from `push` and `end`.
 */
export class Deframer {
  readonly codec: Codec;
  #buffer: Buffer = Buffer.alloc(0);
  /** Chunks received since the last decode, not yet joined to #buffer. */
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  /** The size of the frame being gathered, when the codec told it; no decode until it is all here. */
  #frameSize = 0;

  constructor(codec: Codec) {
    this.codec = codec;
  }

  /** buffered is the number of bytes held for a frame that has not fully arrived. */
  get buffered(): number {
    return this.#buffer.length + this.#chunkBytes;
  }

  /**
   * push adds `chunk` and yields each complete frame, lazily: a consumer that stops pulling stops
   * the decoding. A yielded frame is a view of the received bytes; it stays valid after later pushes.
   */
  *push(chunk: Buffer): Generator<Buffer, void, undefined> {
    // A large length-prefixed frame arrives in many chunks: gather them, and join them once, when
    // the whole frame is here, rather than copying the growing buffer on every read.
    this.#chunks.push(chunk);
    this.#chunkBytes += chunk.length;
    const held = this.#buffer.length + this.#chunkBytes;
    if (held < this.#frameSize) return;
    // Likewise a long line arriving in small pieces: look again only once a piece could end it,
    // or once it could be too long.
    if (this.codec.mayEnd?.(chunk) === false && held <= this.codec.maxFrameSize) return;
    this.#buffer =
      this.#buffer.length === 0 && this.#chunks.length === 1
        ? chunk
        : Buffer.concat([this.#buffer, ...this.#chunks]);
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#frameSize = 0;
    for (;;) {
      const decoded = this.codec.decode(this.#buffer);
      if (!decoded) {
        this.#frameSize = this.codec.frameSize?.(this.#buffer) ?? 0;
        return;
      }
      this.#buffer = this.#buffer.subarray(decoded.used);
      yield decoded.frame;
    }
  }

  /**
   * end signals the end of the stream: it returns the last frame held in leftover bytes (a line
   * without its newline), undefined when nothing is left, or throws ERR_PROTOCOL when the codec
   * says the leftover is a frame cut short.
   */
  end(): Buffer | undefined {
    const rest = Buffer.concat([this.#buffer, ...this.#chunks]);
    this.#buffer = Buffer.alloc(0);
    this.#chunks = [];
    this.#chunkBytes = 0;
    return rest.length === 0 ? undefined : this.codec.decodeEnd(rest);
  }
}
