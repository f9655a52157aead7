/**
 * bench's flags about what a run is for beyond its summary: `--slo` (search the highest rate that
 * meets latency targets), `--compare BASELINE.json --tolerance 10%` (guard against regressions)
 * and `--report FILE.html` (a page to look at), and how their results are worded.
 */
import { type Stats, statSync, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  type Comparison,
  formatCount,
  formatUs,
  type HtmlReportData,
  htmlReport,
  parseBaseline,
  parseSlo,
  type SloStep,
  type SloTarget,
  UsageError,
} from '../../index.js';
import { readOptionFile } from './option-file.js';

/** DEFAULT_TOLERANCE is the change `--compare` allows without `--tolerance`: 10%. */
export const DEFAULT_TOLERANCE = 0.1;

/** OutcomeFlags are the parsed flags. */
export interface OutcomeFlags {
  slo?: SloTarget[];
  compare?: string;
  tolerance?: number;
  report?: string;
}

/** withOutcomeOptions adds `--slo`, `--compare`, `--tolerance` and `--report` to `bench`. */
export function withOutcomeOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--slo <target>',
        'search the highest open-loop rate meeting a latency target such as p99<2ms (repeatable); -t is each step',
      ).argParser((value, previous: SloTarget[] | undefined) => {
        try {
          return [...(previous ?? []), parseSlo(value)];
        } catch (err) {
          throw new UsageError('--slo', (err as Error).message);
        }
      }),
    )
    .option(
      '--compare <baseline.json>',
      'compare with a saved --json summary: exit 1 if throughput fell or a percentile rose',
    )
    .addOption(
      new Option('--tolerance <percent>', 'with --compare: the change allowed')
        .default(undefined, `${DEFAULT_TOLERANCE * 100}%`)
        .argParser(parsePercent),
    )
    .addOption(
      new Option(
        '--report <file.html>',
        'write a self-contained HTML report: charts over time, percentiles, --slo steps',
      ).argParser(reportPath),
    );
}

/**
 * reportPath refuses an empty `--report` name, which would otherwise read as "no report", and a
 * name that is there already as something other than a regular file: a FIFO nobody reads would
 * hold the run's end for ever, a directory or a device fail only once the whole run is over.
 */
function reportPath(path: string): string {
  if (path.trim() === '') throw new UsageError('bench', '--report needs a file name');
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch {
    return path; // Not there yet (the usual case), or not reachable: the write says so.
  }
  if (!stat.isFile())
    throw new UsageError(
      '--report',
      `cannot write ${path}: ${stat.isDirectory() ? 'a directory, not a file' : 'not a regular file'}`,
    );
  return path;
}

function parsePercent(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (!match) throw new UsageError('--tolerance', `invalid percentage "${text}" (expected e.g. 10%)`);
  return Number(match[1]) / 100;
}

/** baselineOf reads `--compare FILE`, or returns undefined without it. Throws UsageError for a file that holds no summary. */
export function baselineOf(flags: OutcomeFlags): Record<string, unknown> | undefined {
  if (flags.compare === undefined) {
    if (flags.tolerance !== undefined) throw new UsageError('bench', '--tolerance needs --compare');
    return undefined;
  }
  const text = readOptionFile('--compare', flags.compare).toString('utf8');
  try {
    return parseBaseline(text);
  } catch (err) {
    throw new UsageError('bench', `--compare ${flags.compare}: ${(err as Error).message}`);
  }
}

/** formatComparisons words each figure against the baseline, one a line. */
export function formatComparisons(comparisons: readonly Comparison[], tolerance: number): string {
  const lines = [`  baseline   (tolerance ${Number((tolerance * 100).toFixed(2))}%)`];
  for (const c of comparisons) {
    const sign = c.change >= 0 ? '+' : '';
    lines.push(
      `    ${c.metric.padEnd(20)} ${String(c.baseline).padStart(10)} -> ${String(c.current).padStart(10)}  ${sign}${(c.change * 100).toFixed(1)}%${c.regressed ? '  REGRESSED' : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** regressionOf names the regressions for the one-line failure, or undefined. */
export function regressionOf(comparisons: readonly Comparison[]): string | undefined {
  const worse = comparisons.filter((c) => c.regressed);
  if (worse.length === 0) return undefined;
  return `worse than the baseline: ${worse.map((c) => `${c.metric} ${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`).join(', ')}`;
}

/** formatSloStep words one step of an `--slo` search. */
export function formatSloStep(step: SloStep, number: number, targets: readonly SloTarget[]): string {
  const latency = targets
    .map((t, i) => `p${t.percentile} ${formatUs(step.latencyUs[i] as number)}`)
    .join('  ');
  const what = step.rate === 0 ? 'closed-loop probe' : `${formatCount(step.rate)}/s offered`;
  const verdict = step.rate === 0 ? '' : step.passed ? '  pass' : `  FAIL (${step.why.join(', ')})`;
  return `  step ${number}: ${what}, ${formatCount(step.report.messagesPerSecond)}/s answered  ${latency}${verdict}\n`;
}

/** writeHtmlReport writes the page to `path`. Throws UsageError if it cannot be written. */
export function writeHtmlReport(path: string, data: HtmlReportData): void {
  try {
    writeFileSync(path, htmlReport(data));
  } catch (err) {
    throw new UsageError(
      'bench',
      `--report ${path}: cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** sloJson is one step as `--json` prints it. */
export function sloStepJson(
  step: SloStep,
  targets: readonly SloTarget[],
  report: Record<string, unknown>,
): Record<string, unknown> {
  return {
    type: 'slo_step',
    rate: step.rate,
    passed: step.passed,
    why: step.why,
    latency_us: Object.fromEntries(targets.map((t, i) => [`p${t.percentile}`, step.latencyUs[i]])),
    summary: report,
  };
}
