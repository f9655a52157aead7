/**
 * The fault flags (`--delay --jitter --throttle --slice --reset-after --close-after --loss
 * --duplicate --seed`): `withFaultOptions` adds them to a command, `faultPlanOf` turns them into a
 * FaultPlan, and `describeFaults`/`faultSummary` word the plan and its counts for stderr.
 */
import { type Command, Option } from 'commander';
import {
  DatagramFaults,
  type FaultCounts,
  type FaultLimit,
  type FaultPlan,
  formatBytes,
  formatDuration,
  hasDatagramFaults,
  hasStreamFaults,
  MAX_FAULT_DELAY,
  MAX_FAULT_LIMIT_MS,
  MAX_SEED,
  MAX_SLICE,
  MAX_THROTTLE,
  newFaultCounts,
  optionError,
  parseAddress,
  parseCount,
  parseDuration,
  parseSize,
  plural,
  type Scheme,
  StreamFaults,
  UsageError,
} from '../../index.js';
import { durationOption } from './common.js';

/** FaultFlags are the parsed fault flags. */
export interface FaultFlags {
  delay?: number;
  jitter?: number;
  throttle?: number;
  slice?: number;
  resetAfter?: FaultLimit;
  closeAfter?: FaultLimit;
  loss?: number;
  duplicate?: number;
  seed?: number;
}

/**
 * parseRateFlag reads a rate in bytes per second: a size (`100k`, `1MiB`, `512`), optionally
 * followed by `/s`. Throws UsageError naming `flag` outside 1 B/s to 10 GiB/s.
 */
export function parseRateFlag(text: string, flag: string): number {
  return parseSize(text.replace(/\/s\s*$/i, ''), flag, 1, MAX_THROTTLE);
}

/**
 * parseFraction reads `0.05` or `5%`, and checks it lies in 0..1 (0% to 100%). Throws UsageError naming `flag`.
 */
export function parseFraction(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(text);
  if (!match) throw new UsageError(flag, `invalid fraction "${text}" (expected e.g. 0.05 or 5%)`);
  const value = Number(match[1]) / (match[2] ? 100 : 1);
  if (value > 1) throw new UsageError(flag, `must be from 0 to 1, or 0% to 100% (got ${text.trim()})`);
  return value;
}

/**
 * parseLimit reads when to cut a connection: bytes (`1000`, `64KiB`, `1MB`: a bare number is bytes)
 * or a duration (`250ms`, `2s`, `1h`). A lone `m` or `M` is refused as ambiguous: a minute by the
 * duration rule, a million bytes by the size rule. Throws UsageError naming `flag`.
 */
export function parseLimit(text: string, flag: string): FaultLimit {
  const unit = /^\s*[\d.]+\s*([a-z]*)\s*$/i.exec(text)?.[1] ?? '';
  if (unit === 'm' || unit === 'M') {
    throw new UsageError(
      flag,
      `"${text.trim()}" is ambiguous: write 60s for a minute, or 1MB (1MiB) for bytes`,
    );
  }
  if (/^(ms|s|h)$/i.test(unit)) return { ms: parseDuration(text, flag, 0, MAX_FAULT_LIMIT_MS) };
  if (!/^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|mb|mib|g|gib|)\s*$/i.test(text)) {
    throw new UsageError(
      flag,
      `invalid value "${text}" (expected bytes as 1000 or 64KiB, or a duration as 2s)`,
    );
  }
  return { bytes: parseSize(text, flag) };
}

/**
 * withFaultOptions adds the fault flags to `command`, with examples naming `usage` (`echo`,
 * `forward tcp://... tcp://...`) and, for the udp ones, `udpUsage`.
 */
export function withFaultOptions(
  command: Command,
  usage = command.name(),
  udpUsage = `${usage} udp://127.0.0.1:0`,
): Command {
  return command
    .addOption(
      new Option(
        '--delay <duration>',
        'faults: hold each chunk or datagram this long (e.g. 100ms)',
      ).argParser(durationOption('--delay', 0, MAX_FAULT_DELAY)),
    )
    .addOption(
      new Option('--jitter <duration>', 'faults: vary each delay by up to this much either way').argParser(
        durationOption('--jitter', 0, MAX_FAULT_DELAY),
      ),
    )
    .addOption(
      new Option(
        '--throttle <rate>',
        'faults, streams: at most RATE bytes/s each way (e.g. 100k, 1MiB)',
      ).argParser((value) => parseRateFlag(value, '--throttle')),
    )
    .addOption(
      new Option('--slice <size>', 'faults, streams: deliver in writes of at most SIZE bytes').argParser(
        (value) => parseSize(value, '--slice', 1, MAX_SLICE),
      ),
    )
    .addOption(
      new Option(
        '--reset-after <bytes|duration>',
        'faults, streams: reset (TCP RST) each connection after N bytes or a duration (2s)',
      ).argParser((value) => parseLimit(value, '--reset-after')),
    )
    .addOption(
      new Option(
        '--close-after <bytes|duration>',
        'faults, streams: close (FIN) each connection after exactly N bytes or a duration',
      ).argParser((value) => parseLimit(value, '--close-after')),
    )
    .addOption(
      new Option('--loss <fraction>', 'faults, udp: drop this fraction of datagrams (0.05 or 5%)').argParser(
        (value) => parseFraction(value, '--loss'),
      ),
    )
    .addOption(
      new Option('--duplicate <fraction>', 'faults, udp: send this fraction of datagrams twice').argParser(
        (value) => parseFraction(value, '--duplicate'),
      ),
    )
    .addOption(
      new Option('--seed <n>', 'faults: seed every random decision, to repeat a run exactly').argParser(
        (value) => parseCount(value, '--seed', 0, MAX_SEED),
      ),
    )
    .addHelpText(
      'after',
      `
Fault examples (docs/faults.md):
  sockkit ${usage} --delay 100ms --jitter 20ms             # every chunk 80-120ms late, in order
  sockkit ${usage} --throttle 100k --slice 16              # 100 kB/s each way, in 16-byte writes
  sockkit ${usage} --close-after 1000 --seed 7             # FIN after exactly 1000 bytes
  sockkit ${usage} --reset-after 2s                        # RST two seconds into each connection
  sockkit ${udpUsage} --loss 5% --duplicate 1% --seed 42`,
    );
}

/**
 * FaultInjection is what a command needs to inject the faults its flags ask for: the stream
 * faults (`streams.echo`, `streams.filters(client, target)` for a bridge), the datagram faults
 * (`datagrams.pass(datagram, deliver)` on each datagram relayed), one seed for both, and the
 * lines to print.
 */
export interface FaultInjection {
  readonly plan: FaultPlan;
  readonly seed: number;
  readonly counts: FaultCounts;
  readonly streams: StreamFaults;
  readonly datagrams: DatagramFaults;
  /** announcement is the line to print when the command starts: the faults and the seed. */
  readonly announcement: string;
  /** summary words what was injected so far, for the shutdown summary. */
  summary(): string;
  /** close drops the datagrams held back and clears their timers (stream faults end with their connections). */
  close(): void;
}

/**
 * faultInjectionOf returns the faults `flags` ask for, on the `urls` a command listens on or
 * relays between (`forward tcp://... tcp://...` passes all of them), or undefined when no fault
 * flag was given. Throws UsageError, under `op`, for a fault that none of the URLs can take.
 */
export function faultInjectionOf(
  op: string,
  flags: FaultFlags,
  urls: readonly string[],
): FaultInjection | undefined {
  const plan = faultPlanOf(flags);
  if (!plan) return undefined;
  checkFaultsApply(
    op,
    plan,
    urls.map((url) => parseAddress(url).scheme),
  );
  const counts = newFaultCounts();
  const streams = new StreamFaults(plan, { counts });
  // One seed for both kinds, so the line printed at the start repeats the whole run.
  const seed = streams.seed;
  const datagrams = new DatagramFaults({ ...plan, seed }, { counts });
  return {
    plan,
    seed,
    counts,
    streams,
    datagrams,
    announcement: describeFaults(plan, seed),
    summary: () => faultSummary(plan, counts, seed),
    close: () => datagrams.close(),
  };
}

/** faultPlanOf returns the plan the fault flags ask for, or undefined when none was given. */
export function faultPlanOf(flags: FaultFlags): FaultPlan | undefined {
  const { delay, jitter, throttle, slice, resetAfter, closeAfter, loss, duplicate, seed } = flags;
  const plan: FaultPlan = { delay, jitter, throttle, slice, resetAfter, closeAfter, loss, duplicate, seed };
  return hasStreamFaults(plan) || hasDatagramFaults(plan) ? plan : undefined;
}

/**
 * checkFaultsApply throws a UsageError naming the option (the CLI prints it as its flag) when a
 * fault applies to none of `schemes`: `loss` with only stream listeners, `slice` with only udp
 * ones. A flag is never silently ignored.
 */
export function checkFaultsApply(op: string, plan: FaultPlan, schemes: readonly Scheme[]): void {
  const streams = schemes.some((s) => s !== 'udp');
  const datagrams = schemes.includes('udp');
  const streamOnly = ['throttle', 'slice', 'resetAfter', 'closeAfter'] as const;
  const datagramOnly = ['loss', 'duplicate'] as const;
  for (const name of streamOnly) {
    if (plan[name] !== undefined && !streams) {
      throw optionError(op, name, 'applies to streams (tcp, tls, unix), and every URL is udp');
    }
  }
  for (const name of datagramOnly) {
    if (plan[name] !== undefined && !datagrams) {
      throw optionError(op, name, 'applies to udp, and no URL is udp');
    }
  }
}

/** describeFaults words a plan for the line a command prints when it starts: `delay 100ms ±20ms, loss 5%`. */
export function describeFaults(plan: FaultPlan, seed: number): string {
  const parts: string[] = [];
  if (plan.delay || plan.jitter) {
    parts.push(
      `delay ${formatDuration(plan.delay ?? 0)}${plan.jitter ? ` ±${formatDuration(plan.jitter)}` : ''}`,
    );
  }
  if (plan.throttle) parts.push(`throttle ${formatBytes(plan.throttle)}/s each way`);
  if (plan.slice) parts.push(`slices of ${formatBytes(plan.slice)}`);
  if (plan.resetAfter) parts.push(`reset after ${describeLimit(plan.resetAfter)}`);
  if (plan.closeAfter) parts.push(`close after ${describeLimit(plan.closeAfter)}`);
  if (plan.loss !== undefined) parts.push(`loss ${percent(plan.loss)}`);
  if (plan.duplicate !== undefined) parts.push(`duplicate ${percent(plan.duplicate)}`);
  return `injecting faults: ${parts.join(', ')} (seed ${seed}; --seed ${seed} repeats them)`;
}

/** faultSummary words what was injected, for the shutdown summary: each fault asked for, and its count. */
export function faultSummary(plan: FaultPlan, counts: FaultCounts, seed: number): string {
  const parts: string[] = [];
  const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  if (plan.delay || plan.jitter) {
    const delayed: string[] = [];
    if (counts.chunksDelayed || !counts.datagramsDelayed) delayed.push(count(counts.chunksDelayed, 'chunk'));
    if (counts.datagramsDelayed) delayed.push(count(counts.datagramsDelayed, 'datagram'));
    parts.push(`${delayed.join(' and ')} delayed`);
  }
  if (plan.throttle) parts.push(`${count(counts.throttleWaits, 'throttle wait')}`);
  if (plan.slice) parts.push(`${count(counts.slices, 'slice')}`);
  if (plan.resetAfter) parts.push(`${count(counts.resets, 'connection')} reset`);
  if (plan.closeAfter) parts.push(`${count(counts.closes, 'connection')} closed`);
  if (plan.loss !== undefined) parts.push(`${count(counts.datagramsLost, 'datagram')} lost`);
  if (plan.duplicate !== undefined) parts.push(`${count(counts.datagramsDuplicated, 'datagram')} duplicated`);
  if (counts.datagramsOverflowed) {
    parts.push(`${count(counts.datagramsOverflowed, 'datagram')} dropped (too many held back at once)`);
  }
  return `faults injected: ${parts.join(', ')} (seed ${seed})`;
}

function describeLimit(limit: FaultLimit): string {
  return 'bytes' in limit ? plural(limit.bytes, 'byte') : formatDuration(limit.ms);
}

function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(4))}%`;
}
