/**
 * Comparing a run with a baseline (a saved `bench --json` summary), so bench can guard a service
 * in CI: throughput must not fall, nor latency percentiles rise, by more than a tolerance.
 */
import type { BenchReport } from './bench.js';

/** Comparison is one figure of a run against its baseline. */
export interface Comparison {
  /** The figure, as the JSON summary names it: `messages_per_second`, `latency_us.p99`. */
  readonly metric: string;
  readonly baseline: number;
  readonly current: number;
  /** The relative change, `current / baseline - 1` (0.25 is 25% more). */
  readonly change: number;
  /** True when the change is a regression beyond the tolerance. */
  readonly regressed: boolean;
}

/** The percentiles compared: p99.9 and the maximum rest on a handful of values in a short run, too few to guard. */
const PERCENTILES = ['p50', 'p90', 'p99'] as const;

/**
 * parseBaseline reads a baseline: the output of `bench --json` (its last `summary` line) or one
 * summary object. Throws RangeError when the text holds no summary with the figures compared.
 */
export function parseBaseline(text: string): Record<string, unknown> {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    const summary = value as { type?: unknown; messages_per_second?: unknown; latency_us?: unknown };
    if (
      typeof summary.messages_per_second === 'number' &&
      typeof summary.latency_us === 'object' &&
      summary.latency_us !== null
    )
      return value as Record<string, unknown>;
  }
  throw new RangeError('holds no bench summary (save one with `sockkit bench ... --json > FILE`)');
}

/**
 * compareWithBaseline compares `current` with `baseline` (a JSON summary, as parseBaseline reads
 * it): throughput regresses when it fell by more than `tolerance` (a fraction, default 0.1), a
 * percentile when it rose by more. A figure the baseline lacks, or holds as 0, is skipped.
 */
export function compareWithBaseline(
  baseline: Record<string, unknown>,
  current: BenchReport,
  tolerance = 0.1,
): Comparison[] {
  if (!(tolerance >= 0)) throw new RangeError('tolerance must be 0 or more');
  const comparisons: Comparison[] = [];
  const add = (metric: string, was: unknown, now: number, higherIsBetter: boolean): void => {
    if (typeof was !== 'number' || !(was > 0)) return;
    const change = now / was - 1;
    const regressed = higherIsBetter ? change < -tolerance : change > tolerance;
    comparisons.push({ metric, baseline: was, current: now, change, regressed });
  };
  add('messages_per_second', baseline.messages_per_second, current.messagesPerSecond, true);
  const latency = (baseline.latency_us ?? {}) as Record<string, unknown>;
  for (const p of PERCENTILES) add(`latency_us.${p}`, latency[p], current.latencyUs[p], false);
  return comparisons;
}
