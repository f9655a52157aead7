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

/** parseDuration reads `250ms`, `2s`, `1.5m`, `1h` or a bare number of seconds, in milliseconds. Throws UsageError naming `what`. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase();
  if (!match || unit === undefined) {
    throw new UsageError(what, `invalid duration "${text}" (expected e.g. 250ms, 2s, 1m)`);
  }
  return Math.round(Number(match[1]) * (durationUnits[unit] as number));
}

/** parseSize reads `64KiB`, `1MiB`, `10k`, `2M` or a bare number of bytes. Throws UsageError naming `what`. */
export function parseSize(text: string, what = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? sizeUnits[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new UsageError(what, `invalid size "${text}" (expected e.g. 512, 64KiB, 1MiB, 10k)`);
  }
  return Math.round(Number(match[1]) * factor);
}

/** parseCount reads a whole number within [min, max]. Throws UsageError naming `what`. */
export function parseCount(text: string, what = 'count', min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(what, `invalid number "${text}" (expected a whole number from ${min} to ${max})`);
  }
  return Number(text);
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
