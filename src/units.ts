/**
 * Durations and sizes as people write them (CONVENTIONS.md, "Values"): `250ms`, `2s`, `1m`;
 * `64KiB`, `1MiB`, `10k`. A bare number is seconds for a duration and bytes for a size.
 */
import { UsageError } from './errors.js';

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, '': 1000 };
const sizeUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1_000_000,
  mb: 1_000_000,
  g: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * MAX_TIMER is the longest delay a Node timer keeps, in ms (2^31 - 1, about 24.8 days): a longer
 * one fires at once. Every duration is at most this.
 */
export const MAX_TIMER = 2 ** 31 - 1;

/** KiB, MiB and GiB are byte counts, for writing ranges: `16 * MiB`. */
export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/**
 * parseDuration reads `250ms`, `2s`, `1.5m`, `1h` or a bare number of seconds, in milliseconds,
 * and checks it lies in [min, max] (default 0 to MAX_TIMER; a larger max is capped at MAX_TIMER).
 * Throws UsageError naming `what`, and the range when the value is outside it.
 */
export function parseDuration(text: string, what = 'duration', min = 0, max = MAX_TIMER): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase();
  if (!match || unit === undefined) {
    throw new UsageError(what, `invalid duration "${text}" (expected e.g. 250ms, 2s, 1m)`);
  }
  const ms = Math.round(Number(match[1]) * (durationUnits[unit] as number));
  return inRange(ms, text, what, min, Math.min(max, MAX_TIMER), describeDuration);
}

/**
 * parseSize reads `64KiB`, `1MiB`, `10k`, `2M` or a bare number of bytes, and checks it lies in
 * [min, max] (default 0 to Number.MAX_SAFE_INTEGER). Throws UsageError naming `what`, and the
 * range when the value is outside it.
 */
export function parseSize(text: string, what = 'size', min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? sizeUnits[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new UsageError(what, `invalid size "${text}" (expected e.g. 512, 64KiB, 1MiB, 10k)`);
  }
  return inRange(Math.round(Number(match[1]) * factor), text, what, min, max, describeSize);
}

/**
 * parseCount reads a whole number and checks it lies in [min, max] (default 0 to
 * Number.MAX_SAFE_INTEGER). Throws UsageError naming `what`, and the range when the value is
 * outside it.
 */
export function parseCount(text: string, what = 'count', min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new UsageError(what, `invalid number "${text}" (expected a whole number from ${min} to ${max})`);
  }
  return inRange(Number(text), text, what, min, max, String);
}

/**
 * parseRate reads a rate such as `5000`, `20k` or `1.5M` (k and M are 1000-based), and checks it
 * lies in [min, max]. Throws UsageError naming `what`, and the range when the value is outside it.
 */
export function parseRate(text: string, what = 'rate', min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$/i.exec(text);
  if (!match) throw new UsageError(what, `invalid rate "${text}" (expected e.g. 5000, 20k, 1.5M)`);
  const factor = { '': 1, k: 1e3, m: 1e6 }[(match[2] ?? '').toLowerCase()] ?? 1;
  return inRange(Number(match[1]) * factor, text, what, min, max, String);
}

/** inRange returns `value` when it lies in [min, max], and otherwise throws the one out-of-range UsageError. */
function inRange(
  value: number,
  text: string,
  what: string,
  min: number,
  max: number,
  describe: (bound: number) => string,
): number {
  if (value >= min && value <= max) return value;
  throw new UsageError(what, `must be from ${describe(min)} to ${describe(max)} (got ${text.trim()})`);
}

/**
 * describeDuration writes a range's bound for people: in the largest unit it is a whole number of
 * (`1ms`, `30s`, `5m`, `2h`), else in days rounded down (`24.8 days`, for MAX_TIMER), so the range
 * stated never holds a value that is refused.
 */
function describeDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (ms >= 86_400_000) return `${Math.floor(ms / 8_640_000) / 10} days`;
  return formatDuration(ms);
}

/** describeSize writes a range's bound exactly: `1 B`, `64 KiB`, `16 MiB`, `65535 B`. */
function describeSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} B`;
}

/** formatBytes writes a byte count for people: `512 B`, `64.0 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** formatDuration writes milliseconds for people: `250ms`, `2s`, `1.5s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}
