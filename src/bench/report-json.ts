/**
 * benchJson writes a bench report as its JSON output spells it: snake_case keys
 * (`messages_per_second`, `latency_us`, `errors_by_kind`), as tools that read bench's `--json`
 * expect, while the library's types use camelCase.
 */
import type { BenchReport, IntervalReport } from './bench.js';

/** benchJson returns `report` with every top-level key in snake_case, ready for `JSON.stringify`. */
export function benchJson(report: BenchReport | IntervalReport): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(report).map(([key, value]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      value,
    ]),
  );
}
