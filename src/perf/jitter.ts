/**
 * The interarrival jitter of RFC 3550 §6.4.1 (and its appendix A.8), as iperf3 computes it for
 * UDP streams: the mean deviation of the difference in transit time between consecutive packets,
 * smoothed with a gain of 1/16. The clocks of the two hosts need not agree: only differences of
 * transit times count.
 */

/** JitterEstimator keeps the running jitter estimate of one stream. */
export class JitterEstimator {
  #previousTransit: number | undefined;
  #jitter = 0;

  /**
   * update takes one packet's send time (from its header) and arrival time, both in seconds on
   * their own clocks, and returns the new estimate: J += (|D| - J) / 16, where D is the change in
   * transit time from the packet before. The first packet only sets the reference.
   */
  update(sentSeconds: number, arrivedSeconds: number): number {
    const transit = arrivedSeconds - sentSeconds;
    if (this.#previousTransit !== undefined) {
      const d = Math.abs(transit - this.#previousTransit);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#previousTransit = transit;
    return this.#jitter;
  }

  /** jitter is the current estimate, in seconds (0 before two packets). */
  get jitter(): number {
    return this.#jitter;
  }
}
