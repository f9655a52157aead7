/**
 * HopStatistics: what mtr shows for one hop, kept as probes settle: who answered, how many
 * probes were sent and answered, and the round-trip times (last, average, best, worst, standard
 * deviation, and jitter, the mean change from one answer to the next).
 */

/** HopSummary is one hop's figures at a moment; times in milliseconds. */
export interface HopSummary {
  readonly ttl: number;
  /** The address that answered most often; undefined when nothing has. */
  readonly address?: string | undefined;
  /** Every address that answered at this TTL (more than one when the path changes or is balanced). */
  readonly addresses: readonly string[];
  /** Probes settled (answered or given up on). */
  readonly sent: number;
  readonly received: number;
  /** Percent of settled probes without an answer. */
  readonly loss: number;
  readonly last?: number | undefined;
  readonly avg?: number | undefined;
  readonly best?: number | undefined;
  readonly worst?: number | undefined;
  /** Standard deviation of the round-trip times. */
  readonly stdev?: number | undefined;
  /** Mean absolute difference between consecutive round-trip times (mtr's Javg). */
  readonly jitter?: number | undefined;
}

/** HopStatistics accumulates the probes of one TTL. */
export class HopStatistics {
  readonly ttl: number;
  #sent = 0;
  #received = 0;
  #last: number | undefined;
  #best = Number.POSITIVE_INFINITY;
  #worst = 0;
  #sum = 0;
  #sumOfSquares = 0;
  #jitterSum = 0;
  readonly #answers = new Map<string, number>();

  constructor(ttl: number) {
    this.ttl = ttl;
  }

  /** add records one settled probe: `address` and `rtt` when it was answered, nothing when lost. */
  add(answer?: { address: string; rtt: number }): void {
    this.#sent += 1;
    if (!answer) return;
    const { address, rtt } = answer;
    this.#received += 1;
    this.#answers.set(address, (this.#answers.get(address) ?? 0) + 1);
    if (this.#last !== undefined) this.#jitterSum += Math.abs(rtt - this.#last);
    this.#last = rtt;
    this.#best = Math.min(this.#best, rtt);
    this.#worst = Math.max(this.#worst, rtt);
    this.#sum += rtt;
    this.#sumOfSquares += rtt * rtt;
  }

  /** summary returns the figures so far. */
  summary(): HopSummary {
    const received = this.#received;
    const loss = this.#sent === 0 ? 0 : ((this.#sent - received) / this.#sent) * 100;
    const ranked = [...this.#answers.entries()].sort((x, y) => y[1] - x[1]);
    const base = {
      ttl: this.ttl,
      addresses: ranked.map(([address]) => address),
      sent: this.#sent,
      received,
      loss,
    };
    if (received === 0) return base;
    const avg = this.#sum / received;
    return {
      ...base,
      address: ranked[0]?.[0] as string,
      last: this.#last as number,
      avg,
      best: this.#best,
      worst: this.#worst,
      stdev: Math.sqrt(Math.max(0, this.#sumOfSquares / received - avg * avg)),
      jitter: received > 1 ? this.#jitterSum / (received - 1) : 0,
    };
  }
}
