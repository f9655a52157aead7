/**
 * sloSearch finds the highest open-loop rate at which latency targets hold (`p99<2ms`): the
 * question people otherwise answer by hand with wrk2 and a spreadsheet. Each step is one open-loop
 * run, long enough for its percentiles to be trusted; every step is reported, then the rate found.
 */
import { optionError } from '../errors.js';
import { type BenchOptions, type BenchReport, benchRun, type IntervalReport } from './bench.js';
import { type PercentilePoint, percentileCurve } from './latency.js';

/** SloTarget is one latency target: the latency at `percentile` must be at most `maxUs`. */
export interface SloTarget {
  readonly percentile: number;
  readonly maxUs: number;
  /** As written: `p99<2ms`. */
  readonly text: string;
}

const UNITS: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000 };

/** parseSlo reads a target such as `p99<2ms`, `p99.9<=10ms` or `p50<300us`. Throws RangeError for anything else. */
export function parseSlo(text: string): SloTarget {
  const match = /^\s*p(\d+(?:\.\d+)?)\s*<=?\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)\s*$/.exec(text);
  const percentile = Number(match?.[1]);
  if (!match || !(percentile > 0 && percentile < 100))
    throw new RangeError(`"${text}" is not a latency target (expected e.g. p99<2ms, p99.9<10ms, p50<300us)`);
  const maxUs = Number(match[2]) * (UNITS[match[3] as string] as number);
  if (!(maxUs >= 1)) throw new RangeError(`"${text}": the latency must be at least 1 µs`);
  return { percentile, maxUs, text: text.trim() };
}

/** SloStep is one rate tried. */
export interface SloStep {
  /** The offered rate, messages per second; 0 for the closed-loop probe that sizes the search. */
  readonly rate: number;
  readonly report: BenchReport;
  /** The latency (µs) at each target's percentile, in the order of the targets. */
  readonly latencyUs: readonly number[];
  readonly passed: boolean;
  /** Why a step failed: `p99 3.1 ms > 2 ms`, `kept up with 71% of the rate`. */
  readonly why: readonly string[];
  /** The step's seconds, and its latency percentile curve (for a report). */
  readonly intervals: readonly IntervalReport[];
  readonly curve: readonly PercentilePoint[];
}

/** SloResult is every step tried and the highest rate that passed (0 if none did). */
export interface SloResult {
  readonly steps: readonly SloStep[];
  readonly rate: number;
}

/** SloSearchOptions are a bench run's options, the targets, and how the search goes. */
export interface SloSearchOptions extends BenchOptions {
  readonly slo: readonly SloTarget[];
  /** The first rate tried; without it a closed-loop probe measures the server's throughput, and the search starts there. */
  readonly startRate?: number | undefined;
  /** The search ends when the rate found is within this fraction of the lowest that failed. Default 0.05. */
  readonly precision?: number | undefined;
  /** At most this many steps (the probe included). Default 12. */
  readonly maxSteps?: number | undefined;
  /** Called after each step. */
  readonly onStep?: ((step: SloStep) => void) | undefined;
}

/** A step passes only if it delivered at least this share of the rate offered. */
const KEPT_UP = 0.95;
/** A percentile is trusted when at least this many values lie beyond it (p99: 1000 replies). */
const BEYOND = 10;
/** The longest a step is stretched to gather enough replies, in milliseconds. */
const LONGEST_STEP = 30_000;

/**
 * sloSearch searches for the highest rate meeting every target: it doubles the rate while steps
 * pass and halves the gap once one fails, until within `precision`. A step passes when each
 * target holds, it kept up with the rate offered, and no reply mismatched and no connection failed.
 * Each step lasts `duration` (default 2 s), longer if its rate would leave too few replies to trust
 * the highest percentile. Rejects as `bench` does when nothing can connect.
 */
export async function sloSearch(options: SloSearchOptions): Promise<SloResult> {
  if (options.slo.length === 0) throw optionError('bench', 'slo', 'needs at least one target');
  const precision = options.precision ?? 0.05;
  const maxSteps = options.maxSteps ?? 12;
  const stepMs = options.duration ?? 2000;
  const highest = Math.max(...options.slo.map((t) => t.percentile));
  const replies = BEYOND / (1 - highest / 100);
  const steps: SloStep[] = [];
  const run = async (rate: number): Promise<SloStep> => {
    const duration = rate > 0 ? Math.min(LONGEST_STEP, Math.max(stepMs, (1000 * replies) / rate)) : stepMs;
    const intervals: IntervalReport[] = [];
    const onInterval = (interval: IntervalReport): void => {
      intervals.push(interval);
      options.onInterval?.(interval);
    };
    const { report, histogram } = await benchRun({ ...options, rate, duration, onInterval });
    const latencyUs = options.slo.map((t) =>
      histogram.totalCount > 0 ? histogram.getValueAtPercentile(t.percentile) : 0,
    );
    const why: string[] = [];
    options.slo.forEach((t, i) => {
      if ((latencyUs[i] as number) > t.maxUs)
        why.push(`p${t.percentile} ${formatUs(latencyUs[i] as number)} > ${formatUs(t.maxUs)}`);
    });
    if (rate > 0 && report.messagesPerSecond < KEPT_UP * rate)
      why.push(`kept up with ${Math.round((100 * report.messagesPerSecond) / rate)}% of the rate`);
    if (report.mismatches > 0) why.push(`${report.mismatches} mismatches`);
    if (report.errors > 0) why.push(`${report.errors} connection errors`);
    if (report.messages === 0) why.push('no reply');
    const passed = rate > 0 && why.length === 0;
    const step = { rate, report, latencyUs, passed, why, intervals, curve: percentileCurve(histogram) };
    steps.push(step);
    options.onStep?.(step);
    return step;
  };
  let rate = options.startRate ?? 0;
  if (!(rate > 0)) {
    const probe = await run(0);
    rate = Math.max(1, Math.round(probe.report.messagesPerSecond));
  }
  let passed = 0;
  let failed = Number.POSITIVE_INFINITY;
  while (steps.length < maxSteps && !options.signal?.aborted) {
    const step = await run(rate);
    if (step.passed) passed = rate;
    else failed = rate;
    if (Number.isFinite(failed) && failed - passed <= precision * failed) break;
    const next = Math.round(Number.isFinite(failed) ? (passed + failed) / 2 : rate * 2);
    if (next === rate || next < 1) break;
    rate = next;
  }
  return { steps, rate: passed };
}

/** formatUs words microseconds for a step's reasons: `850 µs`, `3.1 ms`. */
export function formatUs(us: number): string {
  return us >= 1000 ? `${Number((us / 1000).toFixed(1))} ms` : `${us} µs`;
}
