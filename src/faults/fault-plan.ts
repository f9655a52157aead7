/**
 * FaultPlan says which faults to inject, and how hard: the library's form of `--delay`,
 * `--jitter`, `--throttle`, `--slice`, `--reset-after`, `--close-after`, `--loss`, `--duplicate`
 * and `--seed`. Its fields are named as the flags are, so a usage error names the flag.
 */
import { optionError } from '../errors.js';
import { MAX_SEED } from './prng.js';

/** FaultLimit is when a connection is cut: after so many bytes have passed, or so long after it began. */
export type FaultLimit = { readonly bytes: number } | { readonly ms: number };

/** FaultPlan is every fault to inject; a field left out injects nothing. */
export interface FaultPlan {
  /** Hold each chunk (stream) or datagram this long, in ms, before passing it on. */
  readonly delay?: number | undefined;
  /**
   * Vary each delay uniformly by up to this much either way, in ms (never below zero). A stream
   * keeps its order however the delays vary; datagrams may overtake each other, as on a network.
   */
  readonly jitter?: number | undefined;
  /** Streams: pass at most this many bytes per second in each direction (a token bucket). */
  readonly throttle?: number | undefined;
  /** Streams: deliver in writes of at most this many bytes, each flushed before the next. */
  readonly slice?: number | undefined;
  /** Streams: reset the connection (TCP RST) once this many bytes have passed, or after this long. */
  readonly resetAfter?: FaultLimit | undefined;
  /** Streams: close the connection (FIN) once exactly this many bytes have passed, or after this long. */
  readonly closeAfter?: FaultLimit | undefined;
  /** Datagrams: drop this fraction of them (0 to 1). */
  readonly loss?: number | undefined;
  /** Datagrams: deliver this fraction of them twice (0 to 1). */
  readonly duplicate?: number | undefined;
  /** The seed of every random decision; the same seed makes the same decisions. */
  readonly seed?: number | undefined;
}

/** MAX_FAULT_DELAY is the longest `delay` or `jitter`, in ms (10 minutes: past that, nothing is being tested). */
export const MAX_FAULT_DELAY = 600_000;

/** MAX_SLICE is the largest `slice`, in bytes: past it a slice is no smaller than a read. */
export const MAX_SLICE = 1024 ** 2;

/** MAX_THROTTLE is the largest `throttle`, in bytes per second (10 GiB/s, beyond any loopback). */
export const MAX_THROTTLE = 10 * 1024 ** 3;

/** MAX_FAULT_LIMIT_MS is the longest `resetAfter`/`closeAfter` duration, in ms (one day). */
export const MAX_FAULT_LIMIT_MS = 86_400_000;

/** STREAM_FAULTS and DATAGRAM_FAULTS name the faults each kind of socket takes (`delay` and `jitter`: both). */
export const STREAM_FAULTS = ['delay', 'jitter', 'throttle', 'slice', 'resetAfter', 'closeAfter'] as const;
export const DATAGRAM_FAULTS = ['delay', 'jitter', 'loss', 'duplicate'] as const;

/**
 * checkFaultPlan returns `plan` when every value in it can work, and otherwise throws a
 * UsageError (code `ERR_USAGE`) naming the option and its range, under operation `op`.
 */
export function checkFaultPlan(plan: FaultPlan, op = 'faults'): FaultPlan {
  const whole = (option: string, value: number | undefined, min: number, max: number, unit = '') => {
    if (value === undefined) return;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const of = unit ? ` of ${unit}` : '';
      throw optionError(op, option, `${value}: expected a whole number${of} from ${min} to ${max}`);
    }
  };
  const fraction = (option: string, value: number | undefined) => {
    if (value === undefined) return;
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw optionError(op, option, `${value}: expected a fraction from 0 to 1`);
    }
  };
  const limit = (option: string, value: FaultLimit | undefined) => {
    if (value === undefined) return;
    if ('bytes' in value) whole(option, value.bytes, 0, Number.MAX_SAFE_INTEGER, 'bytes');
    else whole(option, value.ms, 0, MAX_FAULT_LIMIT_MS, 'ms');
  };
  whole('delay', plan.delay, 0, MAX_FAULT_DELAY, 'ms');
  whole('jitter', plan.jitter, 0, MAX_FAULT_DELAY, 'ms');
  whole('throttle', plan.throttle, 1, MAX_THROTTLE, 'bytes per second');
  whole('slice', plan.slice, 1, MAX_SLICE, 'bytes');
  limit('resetAfter', plan.resetAfter);
  limit('closeAfter', plan.closeAfter);
  fraction('loss', plan.loss);
  fraction('duplicate', plan.duplicate);
  whole('seed', plan.seed, 0, MAX_SEED);
  return plan;
}

/** hasStreamFaults is true when `plan` injects any fault into a stream. */
export function hasStreamFaults(plan: FaultPlan): boolean {
  return STREAM_FAULTS.some((name) => plan[name] !== undefined && plan[name] !== 0);
}

/** hasDatagramFaults is true when `plan` injects any fault into datagrams. */
export function hasDatagramFaults(plan: FaultPlan): boolean {
  return DATAGRAM_FAULTS.some((name) => plan[name] !== undefined && plan[name] !== 0);
}
