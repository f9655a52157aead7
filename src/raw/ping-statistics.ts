/**
 * PingStatistics: the summary iputils `ping` prints at the end (transmitted, received, errors,
 * packet loss, rtt min/avg/max/mdev), accumulated from ping events. Pure: no clock, no socket.
 */
import type { PingEvent } from './ping.js';

/** PingSummary is a finished (or interrupted) ping's statistics. Times are in milliseconds. */
export interface PingSummary {
  readonly transmitted: number;
  readonly received: number;
  readonly duplicates: number;
  /** ICMP errors (time exceeded, unreachable) and failed sends. */
  readonly errors: number;
  /** Percentage of requests without a reply, 0 to 100. */
  readonly loss: number;
  /** Round-trip times of the replies (duplicates excluded); undefined when none came. */
  readonly rtt?: { readonly min: number; readonly avg: number; readonly max: number; readonly mdev: number };
}

/** PingStatistics accumulates ping events into a PingSummary. */
export class PingStatistics {
  #transmitted = 0;
  #received = 0;
  #duplicates = 0;
  #errors = 0;
  #sum = 0;
  #sumOfSquares = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** add counts one event. */
  add(event: PingEvent): void {
    switch (event.type) {
      case 'sent':
        this.#transmitted += 1;
        break;
      case 'send-error':
        this.#errors += 1;
        break;
      case 'error':
        this.#errors += 1;
        break;
      case 'reply':
        if (event.duplicate) {
          this.#duplicates += 1;
          break;
        }
        this.#received += 1;
        this.#sum += event.rtt;
        this.#sumOfSquares += event.rtt * event.rtt;
        this.#min = Math.min(this.#min, event.rtt);
        this.#max = Math.max(this.#max, event.rtt);
        break;
      default:
        break;
    }
  }

  /**
   * summary returns the statistics so far. mdev is the standard deviation of the round-trip
   * times, sqrt(mean(t²) − mean(t)²), as iputils computes it.
   */
  summary(): PingSummary {
    const transmitted = this.#transmitted;
    const received = this.#received;
    const loss = transmitted === 0 ? 0 : ((transmitted - received) * 100) / transmitted;
    const base = { transmitted, received, duplicates: this.#duplicates, errors: this.#errors, loss };
    if (received === 0) return base;
    const avg = this.#sum / received;
    const mdev = Math.sqrt(Math.max(0, this.#sumOfSquares / received - avg * avg));
    return { ...base, rtt: { min: this.#min, avg, max: this.#max, mdev } };
  }
}
