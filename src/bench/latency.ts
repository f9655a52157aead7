/**
 * Latency histograms for the bench: HDR histograms (hdr-histogram-js) in whole microseconds, with
 * three significant digits from 1 µs to an hour, so p99.9 and max are exact enough to trust.
 */
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

/** Histogram is an HDR histogram of latencies in microseconds. */
export type Histogram = Hdr.Histogram;

// hdr-histogram-js is loaded on first use, not with the library: it is a quarter of the start-up
// of every command, and only bench records latencies. (A CommonJS package: require is synchronous.)
const load = createRequire(import.meta.url);
let loaded: typeof Hdr | undefined;
function hdr(): typeof Hdr {
  loaded ??= load('hdr-histogram-js') as typeof Hdr;
  return loaded;
}

/** LatencySummary is the percentiles a report shows, in microseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** newHistogram makes an empty latency histogram (1 µs to 1 h, 3 significant digits). */
export function newHistogram(): Histogram {
  return hdr().build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

/** recordMs records a latency given in milliseconds (as `performance.now()` differences). */
export function recordMs(histogram: Histogram, milliseconds: number): void {
  const micros = Math.round(milliseconds * 1000);
  histogram.recordValue(Math.max(micros, 0));
}

/** summarize reads the report's percentiles from `histogram`; all zero when it is empty. */
export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
  };
}

/** encodeHistogram packs a histogram for a worker thread's message (compressed, base64). */
export function encodeHistogram(histogram: Histogram): string {
  return hdr().encodeIntoCompressedBase64(histogram);
}

/** decodeHistogram unpacks what `encodeHistogram` made. */
export function decodeHistogram(encoded: string): Histogram {
  return hdr().decodeFromCompressedBase64(encoded, 32, false);
}

/** PercentilePoint is one point of a percentile curve: the latency (µs) at `percentile`. */
export interface PercentilePoint {
  percentile: number;
  us: number;
}

/**
 * percentileCurve is the latency at percentiles that crowd towards 100 (each step halves the
 * distance left, 5 ticks per halving), up to the maximum: the points HdrHistogram's
 * `outputPercentileDistribution` prints and its plotter draws against 1/(1−percentile) on a log axis.
 */
export function percentileCurve(histogram: Histogram, ticksPerHalfDistance = 5): PercentilePoint[] {
  if (histogram.totalCount === 0) return [];
  const points: PercentilePoint[] = [];
  const count = histogram.totalCount;
  for (let halvings = 0; ; halvings += 1) {
    // From 100 − 100/2^h to 100 − 100/2^(h+1): half the distance left, in equal ticks.
    const step = 100 / 2 ** (halvings + 1) / ticksPerHalfDistance;
    const from = 100 - 100 / 2 ** halvings;
    for (let tick = 0; tick < ticksPerHalfDistance; tick += 1) {
      const percentile = from + tick * step;
      points.push({ percentile, us: histogram.getValueAtPercentile(percentile) });
    }
    // Stop once the tail holds less than one value: the next points would all be the maximum.
    if ((count * 100) / 2 ** halvings < 100 || halvings >= 40) break;
  }
  points.push({ percentile: 100, us: histogram.maxValue });
  return points;
}
