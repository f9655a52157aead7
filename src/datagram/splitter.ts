/**
 * DatagramSplitter cuts a byte stream (stdin) into datagrams, as `connect udp://` and
 * `listen udp://` need: each chunk, or each line, becomes one datagram, and anything longer than a
 * datagram can carry is split at the limit rather than truncated. It is pure: no socket involved.
 */

/** DatagramSplitter turns stream chunks into datagram payloads without losing or altering a byte. */
export class DatagramSplitter {
  readonly #max: number;
  readonly #lines: boolean;
  #pending: Buffer = Buffer.alloc(0);

  /**
   * `max` is the largest payload (see `maxDatagramSize`); with `lines`, each line, its `\n`
   * included, is one datagram, and a partial line waits for the rest (or for `end`).
   */
  constructor(max: number, lines = false) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`max must be a positive whole number: ${max}`);
    this.#max = max;
    this.#lines = lines;
  }

  /** push takes the next chunk of the stream and returns the datagrams it completes, in order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    if (!this.#lines) return this.#cut(chunk);
    const out: Buffer[] = [];
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (let newline = data.indexOf(0x0a); newline >= 0; newline = data.indexOf(0x0a)) {
      out.push(...this.#cut(data.subarray(0, newline + 1)));
      data = data.subarray(newline + 1);
    }
    // A "line" longer than a datagram cannot wait for its end: send what fills whole datagrams.
    const whole = data.length - (data.length % this.#max);
    if (whole > 0) {
      out.push(...this.#cut(data.subarray(0, whole)));
      data = data.subarray(whole);
    }
    this.#pending = Buffer.from(data);
    return out;
  }

  /** end returns the last datagram: an unfinished line, if there is one. */
  end(): Buffer[] {
    const rest = this.#pending;
    this.#pending = Buffer.alloc(0);
    return rest.length > 0 ? this.#cut(rest) : [];
  }

  #cut(data: Buffer): Buffer[] {
    if (data.length <= this.#max) return [data];
    const pieces: Buffer[] = [];
    for (let at = 0; at < data.length; at += this.#max) pieces.push(data.subarray(at, at + this.#max));
    return pieces;
  }
}
