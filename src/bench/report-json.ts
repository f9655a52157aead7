/**
 * benchJson writes a bench report as its JSON output spells it: snake_case keys
 * (`messages_per_second`, `latency_us`, `errors_by_kind`), as tools that read bench's `--json`
 * expect, while the library's types use camelCase.
 */
import type { BenchReport, IntervalReport } from './bench.js';

/** benchJson returns `report` with every key (nested ones too) in snake_case, ready for `JSON.stringify`. */
export function benchJson(report: BenchReport | IntervalReport): Record<string, unknown> {
  return snakeCase(report) as Record<string, unknown>;
}

function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeCase(inner),
    ]),
  );
}
