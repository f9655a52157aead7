/**
 * Responsiveness under load: while a test's streams fill the path, a separate connection to the
 * server carries small messages one at a time, and each one's round trip is timed. The same is
 * done before the load starts (idle). The summary gives percentiles, and round trips per minute
 * (RPM) as the IETF draft "Responsiveness under Working Conditions" (draft-ietf-ippm-
 * responsiveness) defines it: 60 000 divided by a trimmed mean of the round-trip times in
 * milliseconds, the slowest 5 % left out. sockkit measures only this one kind of round trip (an
 * application-level echo on a separate TCP connection, what the draft calls a foreign probe), not
 * the draft's TCP and TLS handshakes, so its RPM is that draft's figure for this probe alone.
 */
import { ConnectionResetError, TimeoutError } from '../errors.js';
import type { Conn } from '../stream/conn.js';

/** RttSummary describes a set of round-trip times, in milliseconds. */
export interface RttSummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** The mean of the fastest 95 %. */
  readonly trimmedMean: number;
  /** Round trips per minute: 60 000 / trimmedMean. */
  readonly rpm: number;
}

/** Responsiveness is what the probe measured, idle and under load. */
export interface Responsiveness {
  readonly idle: RttSummary;
  readonly loaded: RttSummary;
}

/** percentile returns the value at quantile `q` (0..1) of sorted `values` (nearest rank); NaN for none. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** summarizeRtts summarises round-trip times in milliseconds; every figure is NaN for an empty set. */
export function summarizeRtts(rtts: readonly number[]): RttSummary {
  const sorted = [...rtts].sort((a, b) => a - b);
  const kept = sorted.slice(0, Math.max(1, Math.ceil(sorted.length * 0.95)));
  const trimmedMean = sorted.length === 0 ? Number.NaN : kept.reduce((a, b) => a + b, 0) / kept.length;
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    trimmedMean,
    rpm: trimmedMean > 0 ? 60_000 / trimmedMean : Number.NaN,
  };
}

/** PROBE_SIZE is the size of one probe message. */
const PROBE_SIZE = 16;

/**
 * ResponsivenessProbe times round trips on a connection to an echo (a sockkit perf server's probe
 * connection, opened with the test's cookie and `!`). One message is in flight at a time.
 */
export class ResponsivenessProbe {
  readonly #conn: Conn;
  readonly #url: string;
  #received = 0;
  #waiting: { resolve: () => void; reject: (err: Error) => void; need: number } | undefined;
  #sequence = 0;
  #loaded: number[] = [];
  #running = false;

  constructor(conn: Conn, url: string) {
    this.#conn = conn;
    this.#url = url;
    conn.onData((chunk) => {
      this.#received += chunk.length;
      if (this.#waiting && this.#received >= this.#waiting.need) {
        const waiting = this.#waiting;
        this.#waiting = undefined;
        waiting.resolve();
      }
    });
    conn.socket.once('close', () => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.reject(new ConnectionResetError('probe', url, 'the server closed the probe connection'));
    });
  }

  /** roundTrip sends one message and resolves with its round-trip time in ms; it rejects past `timeout` ms. */
  roundTrip(timeout = 2000): Promise<number> {
    const message = Buffer.alloc(PROBE_SIZE);
    message.writeBigUInt64BE(BigInt(++this.#sequence));
    const need = this.#sequence * PROBE_SIZE;
    return new Promise<number>((resolve, reject) => {
      const sentAt = performance.now();
      const timer = setTimeout(() => {
        this.#waiting = undefined;
        reject(new TimeoutError('probe', this.#url, `no echo within ${timeout} ms`));
      }, timeout);
      this.#waiting = {
        need,
        resolve: () => {
          clearTimeout(timer);
          resolve(performance.now() - sentAt);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#conn.write(message);
    });
  }

  /**
   * measureIdle times up to `count` round trips in a row (before the load), stopping early once
   * `budget` ms have passed: the server waits for the data streams meanwhile.
   */
  async measureIdle(count: number, budget = 250): Promise<number[]> {
    const rtts: number[] = [];
    const until = performance.now() + budget;
    while (rtts.length < count && (rtts.length === 0 || performance.now() < until)) {
      rtts.push(await this.roundTrip());
    }
    return rtts;
  }

  /** startLoaded times round trips, one after another with `gap` ms between, until stopLoaded. */
  startLoaded(gap = 10): void {
    this.#running = true;
    this.#loaded = [];
    void (async () => {
      while (this.#running) {
        try {
          const rtt = await this.roundTrip();
          if (this.#running) this.#loaded.push(rtt);
        } catch {
          return;
        }
        if (this.#running) await new Promise((resolve) => setTimeout(resolve, gap));
      }
    })();
  }

  /** stopLoaded ends the loaded measurement and returns its round-trip times, in ms. */
  stopLoaded(): number[] {
    this.#running = false;
    return this.#loaded;
  }

  /** close closes the probe connection. */
  close(): void {
    this.#running = false;
    this.#conn.close();
  }
}
