/**
 * mtr: traceroute and ping in one, as the `mtr` tool does. Every round probes each hop of the
 * path once (TTL 1 up to the target's), and each hop's loss and round-trip times accumulate, so
 * a lossy or slow link shows on the hop after it and on every hop beyond. Probes are ICMP echo
 * requests by default, or TCP SYNs or UDP datagrams of one flow to a port, as traceroute's.
 */
import { setMaxListeners } from 'node:events';
import { AbortError, type SockkitError } from '../errors.js';
import type { Tracer } from '../trace.js';
import {
  checkRange,
  EchoRun,
  openEchoSession,
  type ProbeSession,
  patternPayload,
  resolveTarget,
} from './echo-run.js';
import { FlowSession } from './flow-session.js';
import { HopStatistics, type HopSummary } from './hop-statistics.js';
import type { IpFamily } from './icmp.js';
import { DEFAULT_PROBE_PAYLOAD, DEFAULT_TRACE_PORT, type TraceProtocol } from './traceroute.js';
import { MIN_UDP_PROBE_PAYLOAD } from './udp-probe.js';

/** MAX_IN_FLIGHT bounds the probes awaiting an answer at once (their numbers are 16-bit). */
const MAX_IN_FLIGHT = 30_000;

/** MtrOptions configure mtr(). Durations are in milliseconds. */
export interface MtrOptions {
  /** Rounds to run; until `signal` aborts when unset. */
  readonly count?: number | undefined;
  /** Time between the starts of two rounds; 1000 by default. */
  readonly interval?: number | undefined;
  /** How long a probe is waited for before it counts as lost; 2000 by default. */
  readonly timeout?: number | undefined;
  /** The largest TTL probed; 30 by default. */
  readonly maxHops?: number | undefined;
  /** Payload bytes of ICMP and UDP probes; 32 by default. */
  readonly size?: number | undefined;
  readonly protocol?: TraceProtocol | undefined;
  /** TCP and UDP: the destination port; 80 and 53 by default. */
  readonly port?: number | undefined;
  readonly family?: IpFamily | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
}

/** MtrReport is the state of every hop after a round (and, `final`, once every probe has settled). */
export interface MtrReport {
  /** Rounds started so far. */
  readonly rounds: number;
  /** True for the last report, once every probe sent has been answered or given up on. */
  readonly final: boolean;
  /** The hops from the first up to the target (or maxHops while the target has not answered). */
  readonly hops: readonly HopSummary[];
  /** The TTL at which the target answered; undefined while it has not. */
  readonly reachedAt?: number | undefined;
}

/**
 * Mtr is a running mtr: its target, and a report after every round as an async iterable (iterate
 * once), then a final one when the count is reached or `signal` aborts. Ending the iteration
 * closes its sockets. A report after a round counts only probes that have settled, so a probe
 * still in flight never looks lost.
 */
export class Mtr extends EchoRun<MtrReport, ProbeSession> {
  readonly protocol: TraceProtocol;
  readonly port: number | undefined;
  readonly maxHops: number;
  readonly #options: MtrOptions;
  readonly #hops = new Map<number, HopStatistics>();
  #reachedAt: number | undefined;
  /** The first TTL answered with a destination unreachable: the path ends there, reached or not. */
  #endAt: number | undefined;
  #sequence = 0;
  /** The first failure to send, kept so that a run where nothing could be sent says why. */
  #sendError: SockkitError | undefined;

  constructor(host: string, session: ProbeSession, options: MtrOptions) {
    super(host, session);
    this.protocol = options.protocol ?? 'icmp';
    this.port = session instanceof FlowSession ? session.port : undefined;
    this.maxHops = options.maxHops ?? 30;
    this.#options = options;
  }

  protected override async *run(): AsyncGenerator<MtrReport> {
    const { count, interval = 1000, timeout = 2000 } = this.#options;
    // One signal of our own that every probe in flight listens to (there are many at once).
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const signal = stop.signal;
    const onAbort = (): void => stop.abort();
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#options.signal?.aborted) stop.abort();
    const payload = patternPayload(this.#options.size ?? DEFAULT_PROBE_PAYLOAD);
    const inFlight = new Set<Promise<void>>();
    let rounds = 0;
    try {
      while ((count === undefined || rounds < count) && !signal?.aborted) {
        rounds += 1;
        const started = performance.now();
        const limit = this.#limit();
        // Probes are told apart by a 16-bit number: with a long timeout and a short interval,
        // rounds wait for earlier probes to settle rather than reuse a number still in flight.
        while (inFlight.size + limit > MAX_IN_FLIGHT) await Promise.race(inFlight);
        for (let ttl = 1; ttl <= limit; ttl++) {
          const probe = this.#probe(ttl, payload, timeout, signal);
          inFlight.add(probe);
          void probe.finally(() => inFlight.delete(probe));
        }
        if (count !== undefined && rounds >= count) break;
        await pause(interval - (performance.now() - started), signal);
        if (!signal?.aborted) yield this.#report(rounds, false);
      }
      await Promise.all(inFlight);
      const nothingSent =
        this.#sendError && [...this.#hops.values()].every((hop) => hop.summary().received === 0);
      if (nothingSent) throw this.#sendError;
      yield this.#report(rounds, true);
    } finally {
      this.#options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
      this.session.close();
    }
  }

  async #probe(ttl: number, payload: Buffer, timeout: number, signal?: AbortSignal): Promise<void> {
    this.#sequence = (this.#sequence % 0xffff) + 1;
    let outcome: Awaited<ReturnType<ProbeSession['request']>>;
    try {
      outcome = await this.session.request({ sequence: this.#sequence, ttl, payload, timeout, signal });
    } catch (err) {
      if (err instanceof AbortError) return; // stopped, neither answered nor lost
      this.#sendError ??= err as SockkitError;
      this.#hop(ttl).add();
      return;
    }
    if (outcome.kind === 'timeout') {
      this.#hop(ttl).add();
      return;
    }
    this.#hop(ttl).add({ address: outcome.source, rtt: outcome.rtt });
    const fromTarget =
      outcome.source === this.address && !(outcome.kind === 'error' && outcome.errorKind === 'time-exceeded');
    if (fromTarget && (this.#reachedAt === undefined || ttl < this.#reachedAt)) this.#reachedAt = ttl;
    const unreachable = outcome.kind === 'error' && outcome.errorKind === 'destination-unreachable';
    if (unreachable && (this.#endAt === undefined || ttl < this.#endAt)) this.#endAt = ttl;
  }

  /** limit is the last TTL worth probing: the target's, or where a router said there is no way on. */
  #limit(): number {
    return Math.min(this.#reachedAt ?? this.maxHops, this.#endAt ?? this.maxHops);
  }

  #hop(ttl: number): HopStatistics {
    let hop = this.#hops.get(ttl);
    if (!hop) {
      hop = new HopStatistics(ttl);
      this.#hops.set(ttl, hop);
    }
    return hop;
  }

  #report(rounds: number, final: boolean): MtrReport {
    const limit = this.#limit();
    const hops: HopSummary[] = [];
    for (let ttl = 1; ttl <= limit; ttl++) {
      const hop = this.#hops.get(ttl);
      if (hop) hops.push(hop.summary());
    }
    // While the end is unknown, silent hops past the last one that answered say nothing.
    if (this.#reachedAt === undefined && this.#endAt === undefined)
      while (hops.length > 0 && hops.at(-1)?.received === 0) hops.pop();
    return { rounds, final, hops, ...(this.#reachedAt === undefined ? {} : { reachedAt: this.#reachedAt }) };
  }
}

/**
 * mtr resolves `host` and opens the raw sockets for a run towards it. Rejects like traceroute():
 * ERR_HOST_NOT_FOUND, ERR_PERMISSION_DENIED, ERR_RAW_UNAVAILABLE, ERR_UNREACHABLE. Throws
 * RangeError for options out of range. Iterate the result for its reports.
 */
export async function mtr(host: string, options: MtrOptions = {}): Promise<Mtr> {
  checkRange('count', options.count, 1, 1_000_000_000, true);
  checkRange('interval', options.interval, 1, 2 ** 31 - 1);
  checkRange('timeout', options.timeout, 1, 2 ** 31 - 1);
  checkRange('maxHops', options.maxHops, 1, 255, true);
  checkRange('size', options.size, options.protocol === 'udp' ? MIN_UDP_PROBE_PAYLOAD : 0, 65_000, true);
  checkRange('port', options.port, 1, 65_535, true);
  const protocol = options.protocol ?? 'icmp';
  if (protocol === 'icmp') {
    if (options.port !== undefined) throw new RangeError('port applies to tcp and udp probes, not icmp');
    return new Mtr(host, await openEchoSession('mtr', host, options), options);
  }
  const target = await resolveTarget('mtr', host, options.family);
  const session = await FlowSession.open(target.ip, target.family, protocol, {
    port: options.port ?? DEFAULT_TRACE_PORT[protocol],
    payloadLength: options.size ?? DEFAULT_PROBE_PAYLOAD,
    trace: options.trace,
    op: 'mtr',
    url: host,
  });
  return new Mtr(host, session, options);
}

/** pause waits `ms` (nothing when zero or less), or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
