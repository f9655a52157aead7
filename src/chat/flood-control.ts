/**
 * FloodControl limits how fast one client's lines are handled: a token bucket. A client may send a
 * burst, then one line per 1/rate seconds; a faster client is not cut off but slowed down: the
 * broker stops reading from it until a token is free, so TCP flow control pushes back on the
 * flooder alone, and its lines are neither dropped nor reordered.
 */
export class FloodControl {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last: number;

  /**
   * Allow `rate` lines per second on average and bursts of `burst` lines. A rate of 0 or Infinity
   * disables the limit. Throws RangeError for a negative rate or a burst below 1.
   */
  constructor(rate: number, burst: number) {
    if (!(rate >= 0)) throw new RangeError(`flood rate must be 0 or more lines per second (got ${rate})`);
    if (!(burst >= 1)) throw new RangeError(`flood burst must be at least 1 line (got ${burst})`);
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = Date.now();
  }

  /** delay returns how long, in ms, the next line must wait (0 when a token is free), and takes the token. */
  take(now = Date.now()): number {
    if (this.rate === 0 || this.rate === Number.POSITIVE_INFINITY) return 0;
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.rate);
  }

  /** wait resolves when the next line may be handled. */
  wait(): Promise<void> {
    const delay = this.take();
    return delay === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, delay));
  }
}
