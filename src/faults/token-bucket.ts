/**
 * TokenBucket paces a flow to a rate in bytes per second. It is pure: the caller passes the
 * time, so it is tested without a clock, and it never sets a timer itself.
 */

/** MAX_BURST is the most a bucket saves while idle, in bytes, whatever the rate. */
export const MAX_BURST = 64 * 1024;

/** CATCH_UP is how many bursts' worth a bucket in debt may be credited when it is next looked at late. */
export const CATCH_UP = 4;

/**
 * TokenBucket holds up to `burst` bytes' worth of tokens, refilled at `rate` bytes per second.
 * Spending may take it below zero (a piece larger than what is left is sent whole, then paid
 * for by waiting). A bucket in debt that is looked at late is credited the time it waited, up to
 * CATCH_UP bursts: so over any span T no more than `CATCH_UP * burst + rate * T` plus one piece
 * pass, and a sender kept waiting by a busy event loop still gets its rate.
 */
export class TokenBucket {
  readonly rate: number;
  readonly burst: number;
  #tokens: number;
  #last: number;

  /**
   * The constructor makes a full bucket at time `now` (ms). The burst defaults to a twentieth
   * of a second's worth of bytes, at least one byte and at most MAX_BURST, so that a rate
   * measured over a second or more is within a few percent of `rate`. Throws RangeError for a
   * rate or burst that is not a positive number.
   */
  constructor(rate: number, now: number, burst = Math.min(MAX_BURST, Math.max(1, Math.floor(rate / 20)))) {
    if (!(rate > 0) || !Number.isFinite(rate))
      throw new RangeError(`rate ${rate}: must be a positive number`);
    if (!(burst > 0) || !Number.isFinite(burst))
      throw new RangeError(`burst ${burst}: must be a positive number`);
    this.rate = rate;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /**
   * waitFor returns how long, in ms, until the bucket holds `bytes` worth of tokens (0: now).
   * More than `burst` is never waited for: a larger piece waits for a full bucket, then goes
   * below zero.
   */
  waitFor(now: number, bytes = 1): number {
    this.#refill(now);
    const wanted = Math.min(bytes, this.burst);
    return this.#tokens >= wanted ? 0 : Math.ceil(((wanted - this.#tokens) * 1000) / this.rate);
  }

  /** spend takes `bytes` worth of tokens at time `now`, going below zero if it must. */
  spend(bytes: number, now: number): void {
    this.#refill(now);
    this.#tokens -= bytes;
  }

  #refill(now: number): void {
    // A clock that steps back (it should not: callers use a monotonic one) adds nothing.
    const elapsed = Math.max(0, now - this.#last);
    this.#last = Math.max(this.#last, now);
    // Idle, the bucket saves up to one burst. In debt, someone is waiting on it, and a timer that
    // fired late (a busy event loop) is credited up to CATCH_UP bursts, so the rate holds.
    // A refill never takes away what was credited before.
    const cap = this.#tokens < 0 ? this.burst * CATCH_UP : this.burst;
    const refilled = this.#tokens + (elapsed * this.rate) / 1000;
    this.#tokens = refilled > cap ? Math.max(this.#tokens, cap) : refilled;
  }
}
