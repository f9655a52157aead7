/**
 * bench is the load generator: it drives one load loop per thread against an echo server (or, with
 * `request`, any request/response service), reports
 * each second, and returns a summary with rates, latency percentiles and every fault it counted.
 * Whatever the server does once a connection is open (resets it, dies, floods it), the run ends
 * with its summary: a failed connection is counted by kind, never thrown.
 */
import { performance } from 'node:perf_hooks';
import { formatAddress, type SocketAddress } from '../address.js';
import { optionError } from '../errors.js';
import type { Framing } from '../framing/frame-names.js';
import { type ClientTransportOptions, clientTransportOptionsOf } from '../stream/transports.js';
import { type Histogram, type LatencySummary, newHistogram, summarize } from './latency.js';
import {
  addCounters,
  type ConnectOutcome,
  type Counters,
  type ErrorCounts,
  type LoadEngine,
  type LoadPlan,
  type LoadSample,
  totalErrors,
  zeroCounters,
} from './load.js';
import type { MismatchSample } from './reply-check.js';
import { RequestProtocol, type RequestSpec } from './request-spec.js';
import { createEngine, WorkerEngine } from './worker.js';

/** DEFAULT_DURATION is how long a run lasts when BenchOptions.duration is not given: 10 s. */
export const DEFAULT_DURATION = 10_000;

/** BenchOptions describe a run. Only `address` is required; `tls` is as `dial` takes it. */
export interface BenchOptions extends ClientTransportOptions, Framing {
  readonly address: SocketAddress;
  /** Connections (UDP: peers). Default 1. */
  readonly connections?: number | undefined;
  /** Bytes per message. Default 64. */
  readonly size?: number | undefined;
  /** Messages in flight per connection (closed loop). Default 1: ping-pong. */
  readonly depth?: number | undefined;
  /**
   * Closed loop, tcp/unix/tls: send `depth` messages in one write, and the next `depth` only once
   * every one is answered, as redis-benchmark's `-P` does; without it each answer sends one more
   * (memtier's `--pipeline`), so `depth` stay in flight. Default false.
   */
  readonly batch?: boolean | undefined;
  /** How long to run, in milliseconds. Default 10000. */
  readonly duration?: number | undefined;
  /** Open loop: messages per second across all connections, measured from each message's intended send time. Default 0 (closed loop). */
  readonly rate?: number | undefined;
  /** Connect, echo one message, close, repeat: measures connections (TLS: handshakes) per second. */
  readonly reconnect?: boolean | undefined;
  /** Worker threads to spread the connections over. Default 1 (this thread). */
  readonly threads?: number | undefined;
  /** UDP: how long before an unanswered datagram counts as lost, in milliseconds. Default 1000. */
  readonly lossTimeout?: number | undefined;
  /** How long each connect may take, in milliseconds. Default 5000. */
  readonly connectTimeout?: number | undefined;
  /**
   * Try only IPv4 (4) or only IPv6 (6) addresses of the server's name (`-4`, `-6`), as
   * DialOptions.family does. Default: every address it resolves to.
   */
  readonly family?: 4 | 6 | undefined;
  /**
   * Request/response mode: send these requests and check each reply (see RequestSpec), instead of
   * echoing `size`-byte messages. Closed loop (`depth`) and open loop (`rate`) work the same.
   */
  readonly request?: RequestSpec | undefined;
  /** Aborting it ends the run early; the summary covers the time run. */
  readonly signal?: AbortSignal | undefined;
  /** Called once a second with that second's figures. */
  readonly onInterval?: ((report: IntervalReport) => void) | undefined;
}

/** IntervalReport is one second of a run (keys as in the JSON output). */
export interface IntervalReport {
  elapsedS: number;
  messages: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  connectionsPerSecond: number;
  latencyUs: LatencySummary;
  mismatches: number;
  /** Connections that failed, of every kind. */
  errors: number;
  /** Connections that failed, by kind: refused, reset, closed, timed_out, protocol, tls, other. */
  errorsByKind: ErrorCounts;
  lost: number;
  openConnections: number;
}

/** BenchReport is the summary of a whole run; its JSON output (`benchJson`) spells the same keys in snake_case. */
export interface BenchReport {
  url: string;
  messages: number;
  bytes: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** Reconnect mode: connections opened, echoed once and closed, per second. */
  connectionsPerSecond: number;
  latencyUs: LatencySummary;
  mismatches: number;
  /** Connections that failed, of every kind (a connection fails once, and is not reopened). */
  errors: number;
  /**
   * Connections that failed, by kind: `refused`, `reset`, `closed` (by the server before the run
   * ended), `timed_out` (connecting), `protocol` (the server sent more than it was sent), `tls`, `other`.
   */
  errorsByKind: ErrorCounts;
  lost: number;
  /**
   * Request/response mode: replies that came after the run's end, while the requests in flight
   * were given a moment (up to 500 ms): their latency is in the percentiles, but not in
   * `messages`, so a server past its capacity does not look faster than it is.
   */
  late: number;
  /** UDP replies beyond one per datagram sent: a server that answers twice, or ten times. */
  duplicated: number;
  reordered: number;
  connections: number;
  size: number;
  depth: number;
  /** Closed loop: whether `depth` messages went out in batches (see BenchOptions.batch). */
  batch: boolean;
  /** Open loop's target rate; 0 in the closed loop. */
  rate: number;
  threads: number;
  durationS: number;
  /** Request/response mode: the first few replies that failed their check. */
  mismatchSamples: MismatchSample[];
  /**
   * CPU time this process (every thread) spent during the run, in seconds: compare it with
   * `durationS` to tell whether the load generator, rather than the server, was the limit.
   */
  cpuS: number;
}

/**
 * bench runs a load against the echo server at `options.address` and resolves with its summary.
 * It rejects with a SockkitError if not one connection can be opened (`connect tcp://...:
 * connection refused`), and throws UsageError for impossible options. If some connections open,
 * the run goes on with them, and the others count as errors. Faults during the run (mismatched
 * bytes, resets, a server that sends more than it was sent, lost datagrams) are counted in the
 * report, not thrown; the run ends early when no connection is left.
 */
export async function bench(options: BenchOptions): Promise<BenchReport> {
  return (await benchRun(options)).report;
}

/** BenchRun is a run's summary and the histogram of all its latencies (for any percentile, or a plot). */
export interface BenchRun {
  readonly report: BenchReport;
  readonly histogram: Histogram;
}

/** benchRun runs as `bench` does, and resolves with the latency histogram too. */
export async function benchRun(options: BenchOptions): Promise<BenchRun> {
  const plans = planThreads(options);
  const engines: LoadEngine[] =
    plans.length === 1 ? [createEngine(plans[0] as LoadPlan)] : plans.map((p) => new WorkerEngine(p));
  const outcomes = await Promise.allSettled(engines.map((e) => e.connect()));
  let opened = 0;
  let failure: unknown;
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') failure = outcome.reason;
    else opened += outcome.value.opened;
  }
  if (failure !== undefined || opened === 0) {
    await Promise.allSettled(engines.map((e) => e.stop()));
    throw failure ?? firstConnectError(outcomes);
  }
  const total = zeroCounters();
  const histogram = newHistogram();
  const duration = options.duration ?? DEFAULT_DURATION;
  let stopEarly = options.signal?.aborted ?? false;
  const onAbort = (): void => {
    stopEarly = true;
    wake();
  };
  let wake = (): void => {};
  // The run ends as soon as every engine has lost its last connection: nothing is left to measure.
  let idle = 0;
  const onIdle = (): void => {
    idle += 1;
    if (idle === engines.length) onAbort();
  };
  for (const engine of engines) engine.start(onIdle);
  const began = performance.now();
  const cpuBefore = process.cpuUsage();
  let seconds = 0;
  options.signal?.addEventListener('abort', onAbort, { once: true });
  while (!stopEarly) {
    const from = seconds * 1000;
    const next = Math.min(from + 1000, duration);
    const wait = began + next - performance.now();
    if (wait > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (stopEarly) break;
    const interval = combine(await Promise.all(engines.map((e) => e.sample())));
    addCounters(total, interval.counters);
    histogram.add(interval.histogram);
    seconds += 1;
    if (next - from === 1000) options.onInterval?.(intervalReport(seconds, interval, 1));
    if (next >= duration) break;
    if (interval.open === 0 && !options.reconnect) break; // every connection has failed
  }
  options.signal?.removeEventListener('abort', onAbort);
  const elapsed = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const last = combine(await Promise.all(engines.map((e) => e.stop())));
  addCounters(total, last.counters);
  histogram.add(last.histogram);
  const plan = plans[0] as LoadPlan;
  const report: BenchReport = {
    url: formatAddress(plan.address),
    messages: total.messages,
    bytes: total.bytes,
    messagesPerSecond: round(total.messages / elapsed),
    bytesPerSecond: round(total.bytes / elapsed),
    connectionsPerSecond: round(total.connects / elapsed),
    latencyUs: summarize(histogram),
    mismatches: total.mismatches,
    mismatchSamples: total.mismatchSamples,
    errors: totalErrors(total.errors),
    errorsByKind: total.errors,
    lost: total.lost,
    late: total.late,
    duplicated: total.duplicated,
    reordered: total.reordered,
    connections: options.connections ?? 1,
    size: plan.size,
    depth: plan.depth,
    batch: plan.batch,
    rate: options.rate ?? 0,
    threads: plans.length,
    durationS: Number(elapsed.toFixed(3)),
    cpuS: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
  };
  return { report, histogram };
}

/** firstConnectError is the first connect failure any engine met. */
function firstConnectError(outcomes: readonly PromiseSettledResult<ConnectOutcome>[]): Error {
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled' && outcome.value.error) return outcome.value.error;
  }
  return new Error('no connection opened');
}

/** planThreads checks the options and splits the connections (and the open loop's rate) over the threads. */
function planThreads(options: BenchOptions): LoadPlan[] {
  const op = 'bench';
  const connections = options.connections ?? 1;
  const threads = options.threads ?? 1;
  const size = options.size ?? 64;
  const depth = options.depth ?? 1;
  const rate = options.rate ?? 0;
  if (!Number.isInteger(connections) || connections < 1)
    throw optionError(op, 'connections', 'must be at least 1');
  if (!Number.isInteger(threads) || threads < 1) throw optionError(op, 'threads', 'must be at least 1');
  if (threads > connections)
    throw optionError(
      op,
      'threads',
      `must be at most the number of connections (${connections}): each thread needs one`,
    );
  if (!Number.isInteger(depth) || depth < 1) throw optionError(op, 'depth', 'must be at least 1');
  if (!(rate >= 0)) throw optionError(op, 'rate', 'must be 0 or more');
  if (options.address.scheme === 'udp' && !options.request && (size < 8 || size > 65_507)) {
    throw optionError(op, 'size', 'for udp must be from 8 B (the sequence header) to 65507 B');
  }
  if (options.address.scheme !== 'udp' && (size < 1 || size > 64 << 20)) {
    throw optionError(op, 'size', 'must be from 1 B to 64 MiB');
  }
  if (options.frame && !['tcp', 'unix', 'tls'].includes(options.address.scheme)) {
    throw optionError(
      op,
      'frame',
      'applies to stream transports (tcp, unix, tls); a datagram or WebSocket message is already one message',
    );
  }
  if (options.frame === 'len8' && size > 255)
    throw optionError(op, 'size', 'must be at most 255 B when frames are len8');
  if (
    (options.frame === 'delimiter') !== (options.delimiter !== undefined) ||
    options.delimiter?.length === 0
  )
    throw optionError(op, 'delimiter', "is needed with frame 'delimiter' (one byte or more), and only there");
  if (options.reconnect && options.proxy && options.proxy.length > 0) {
    throw optionError(
      op,
      'reconnect',
      'cannot go through a proxy: each round would be a new tunnel (bench without it)',
    );
  }
  if (options.batch) {
    if (rate > 0) throw optionError(op, 'batch', 'applies to the closed loop (depth), not with a rate');
    if (options.reconnect) throw optionError(op, 'batch', 'applies to open connections, not reconnect');
    if (!['tcp', 'unix', 'tls'].includes(options.address.scheme))
      throw optionError(op, 'batch', 'applies to stream transports (tcp, unix, tls)');
  }
  if (options.request) {
    if (options.reconnect) throw optionError(op, 'reconnect', 'applies to echo runs, not with requests');
    // Throws UsageError for a spec that cannot work.
    new RequestProtocol(options.request, options, options.address.scheme === 'udp');
  }
  if (options.reconnect && options.address.scheme === 'udp') {
    throw optionError(op, 'reconnect', 'applies to stream transports (tcp, unix, tls), not udp');
  }
  const plans: LoadPlan[] = [];
  let first = 0;
  for (let t = 0; t < threads; t += 1) {
    const share = Math.floor(connections / threads) + (t < connections % threads ? 1 : 0);
    plans.push({
      address: options.address,
      connections: share,
      firstConnection: first,
      size,
      depth,
      batch: options.batch ?? false,
      rate: (rate * share) / connections,
      duration: options.duration ?? DEFAULT_DURATION,
      reconnect: options.reconnect ?? false,
      lossTimeout: options.lossTimeout ?? 1000,
      connectTimeout: options.connectTimeout ?? 5000,
      ...clientTransportOptionsOf(options),
      frame: options.frame,
      delimiter: options.delimiter,
      family: options.family,
      request: options.request,
    });
    first += share;
  }
  return plans;
}

function combine(samples: readonly LoadSample[]): LoadSample {
  const counters: Counters = zeroCounters();
  const histogram = newHistogram();
  let open = 0;
  for (const sample of samples) {
    addCounters(counters, sample.counters);
    histogram.add(sample.histogram);
    open += sample.open;
  }
  return { counters, histogram, open };
}

function intervalReport(elapsed: number, sample: LoadSample, seconds: number): IntervalReport {
  const c = sample.counters;
  return {
    elapsedS: elapsed,
    messages: c.messages,
    messagesPerSecond: round(c.messages / seconds),
    bytesPerSecond: round(c.bytes / seconds),
    connectionsPerSecond: round(c.connects / seconds),
    latencyUs: summarize(sample.histogram),
    mismatches: c.mismatches,
    errors: totalErrors(c.errors),
    errorsByKind: c.errors,
    lost: c.lost,
    openConnections: sample.open,
  };
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value) : 0;
}
