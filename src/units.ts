/**
 * Durations, sizes, counts and rates as people write them (CONVENTIONS.md, "Values"): `250ms`,
 * `2s`, `1m`; `64KiB`, `1MiB`, `10k`. A bare number is seconds for a duration and bytes for a size.
 *
 * Every value sockkit shows is worded here. A value a user may type back (a default, a range's
 * bound) is written as it is typed, with no separators: `5s`, `64KiB`, `1460B`, `1000000`, `10M`.
 * A figure reported (a count, a measured amount) groups thousands with commas: `1,048,576
 * connections`, `1.5 MiB`.
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
  return inRange(ms, text, what, min, Math.min(max, MAX_TIMER), durationBound);
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
  return inRange(Math.round(Number(match[1]) * factor), text, what, min, max, formatSize);
}

/**
 * parseCount reads a whole number and checks it lies in [min, max] (default 0 to
 * Number.MAX_SAFE_INTEGER). Throws UsageError naming `what`, and the range when the value is
 * outside it.
 */
export function parseCount(text: string, what = 'count', min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new UsageError(
      what,
      `invalid number "${text}" (expected a whole number ${describeRange(min, max, String)})`,
    );
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
  return inRange(Number(match[1]) * factor, text, what, min, max, formatRate);
}

/** inRange returns `value` when it lies in [min, max], and otherwise throws the one out-of-range UsageError. */
function inRange(
  value: number,
  text: string,
  what: string,
  min: number,
  max: number,
  format: (bound: number) => string,
): number {
  if (value >= min && value <= max) return value;
  // Past an upper bound no one would type (Number.MAX_SAFE_INTEGER), "N or more" would not say why.
  if (value > max && max >= Number.MAX_SAFE_INTEGER)
    throw new UsageError(what, `too large (got ${text.trim()})`);
  throw new UsageError(what, `must be ${describeRange(min, max, format)} (got ${text.trim()})`);
}

/**
 * describeRange says [min, max] as a user would: `from 1 to 255`, `from 1ms to 24.8 days`, and
 * `1 or more` when no value a user could type reaches max (Number.MAX_SAFE_INTEGER or above).
 */
function describeRange(min: number, max: number, format: (bound: number) => string): string {
  if (max >= Number.MAX_SAFE_INTEGER) return `${format(min)} or more`;
  return `from ${format(min)} to ${format(max)}`;
}

/**
 * formatDuration writes milliseconds as they are typed, so parseDuration reads them back: in the
 * largest unit they are a whole number of (`250ms`, `2s`, `5m`, `2h`), else in seconds (`1.5s`,
 * `90s`); zero is `0s`.
 */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (ms === 0) return '0s';
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}

/**
 * durationBound writes a range's duration bound: as formatDuration does, but past a day and no
 * whole number of hours (MAX_TIMER) in days rounded down (`24.8 days`), read more easily than
 * `2147483.647s`, and so that a range stated never holds a value that is refused.
 */
function durationBound(ms: number): string {
  if (ms >= 86_400_000 && ms % 3_600_000 !== 0) return `${Math.floor(ms / 8_640_000) / 10} days`;
  return formatDuration(ms);
}

/**
 * formatSize writes a byte count exactly, as it is typed: in the largest binary unit it is a
 * whole number of (`64KiB`, `16MiB`, `1GiB`), else in bytes (`1460B`, `0B`).
 */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/** formatRate writes a rate as it is typed, k and M 1000-based: `5000`, `20k`, `10M`. */
export function formatRate(rate: number): string {
  if (rate >= 1e6 && rate % 1e6 === 0) return `${rate / 1e6}M`;
  if (rate >= 1e4 && rate % 1e3 === 0) return `${rate / 1e3}k`;
  return String(rate);
}

/** formatBytes writes a byte count reported, for people: `512 B`, `64.0 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < KiB) return `${bytes} B`;
  // The unit is chosen by the figure as written: 1048575 B is `1.0 MiB`, never `1024.0 KiB`.
  const kib = (bytes / KiB).toFixed(1);
  if (Number(kib) < 1024) return `${kib} KiB`;
  const mib = (bytes / MiB).toFixed(1);
  if (Number(mib) < 1024) return `${mib} MiB`;
  return `${(bytes / GiB).toFixed(2)} GiB`;
}

/** formatCount writes a number reported, thousands grouped with commas: `950`, `1,048,576`, `2,500.5`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/**
 * plural writes a count reported with its noun, in the singular for exactly one: `1 connection`,
 * `2 connections`, `1,000 connections`; `plural(n, 'reply', 'replies')` for an irregular noun.
 */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : nouns}`;
}
