/**
 * The bench's message codec: what bytes each message carries on the wire, and how the bytes that
 * come back are checked. It is the one place that knows the wire format, so a framing (a length
 * prefix, say) changes only `encode` here, never the load loops.
 */

/** MessageEncoder turns a message's payload into its bytes on the wire. The default sends the payload as is. */
export type MessageEncoder = (payload: Buffer) => Buffer;

/** identityEncoder sends each payload unchanged: the echo protocol has no framing. */
export const identityEncoder: MessageEncoder = (payload) => payload;

/**
 * MessageRing holds `count` distinct messages, built once, back to back in one buffer, so the
 * load loops never allocate per message: message `n` is `message(n)`, a view made up front, and
 * the byte stream a connection sends is the ring's bytes repeated. Consecutive messages differ,
 * so a server that drops, repeats or reorders bytes fails the check, not only one that flips them.
 */
export class MessageRing {
  /** size is the bytes of one message on the wire (after encoding). */
  readonly size: number;
  /** count is how many distinct messages the ring holds. */
  readonly count: number;
  /** bytes is every message back to back: `count * size` bytes. */
  readonly bytes: Buffer;
  readonly #views: Buffer[];

  constructor(
    payloadSize: number,
    count: number,
    encode: MessageEncoder = identityEncoder,
    seed = 2463534242,
  ) {
    if (!Number.isInteger(payloadSize) || payloadSize < 0) throw new RangeError('payloadSize must be >= 0');
    if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be >= 1');
    const random = xorshift(seed);
    const encoded: Buffer[] = [];
    for (let n = 0; n < count; n += 1) {
      const payload = Buffer.allocUnsafe(payloadSize);
      for (let i = 0; i < payloadSize; i += 1) payload[i] = random() & 0xff;
      encoded.push(encode(payload));
    }
    this.size = encoded[0]?.length ?? 0;
    if (encoded.some((m) => m.length !== this.size))
      throw new RangeError('encoded messages must share one size');
    this.count = count;
    this.bytes = Buffer.concat(encoded);
    this.#views = encoded.map((_, n) => this.bytes.subarray(n * this.size, (n + 1) * this.size));
  }

  /** message returns the bytes of message `n` (any whole number; the ring repeats). */
  message(n: number): Buffer {
    return this.#views[n % this.count] as Buffer;
  }

  /**
   * matches reports whether the first `length` bytes of `chunk` (all of it by default) equal the
   * stream of messages starting `offset` bytes into message 0 (any whole number; the ring
   * repeats). It allocates nothing.
   */
  matches(chunk: Uint8Array, offset: number, length = chunk.length): boolean {
    const total = this.bytes.length;
    if (total === 0) return length === 0;
    let at = offset % total;
    let done = 0;
    while (done < length) {
      const part = Math.min(length - done, total - at);
      if (this.bytes.compare(chunk, done, done + part, at, at + part) !== 0) return false;
      done += part;
      at = 0;
    }
    return true;
  }

  /**
   * badMessages counts the whole messages `chunk` touches that differ from the ring, with the
   * chunk starting `offset` bytes into message 0; `after` is the index of the last message already
   * counted bad, so a message split over two reads counts once. Returns the new count and last index.
   */
  badMessages(chunk: Uint8Array, offset: number, after: number): { bad: number; last: number } {
    let bad = 0;
    let last = after;
    let done = 0;
    while (done < chunk.length) {
      const message = Math.floor((offset + done) / this.size);
      const length = Math.min(chunk.length - done, (message + 1) * this.size - (offset + done));
      if (message > last && !this.matches(chunk.subarray(done, done + length), offset + done)) {
        bad += 1;
        last = message;
      }
      done += length;
    }
    return { bad, last };
  }
}

/** xorshift is the small pseudo-random generator the C reference load generator uses too (seeded: runs repeat). */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
