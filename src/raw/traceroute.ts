/**
 * traceroute: ICMP echo probes with a growing TTL (hop limit on IPv6), the method of
 * `traceroute -I`. The router where a probe's TTL runs out answers with time exceeded, naming
 * itself; the target answers with an echo reply, and the trace stops there.
 */
import type { Tracer } from '../trace.js';
import { checkRange, EchoRun, openEchoSession, patternPayload } from './echo-run.js';
import type { EchoSession, WireEvent } from './echo-session.js';
import type { IpFamily } from './icmp.js';
import { unreachableMark } from './icmp-names.js';

/** Probe is one probe's answer. */
export interface Probe {
  /** `reply`: the target answered; `time-exceeded`: a router did; `unreachable`; `timeout`: silence. */
  readonly kind: 'reply' | 'time-exceeded' | 'unreachable' | 'other-error' | 'timeout';
  /** Who answered; undefined for silence. */
  readonly address?: string;
  /** Round-trip time in milliseconds; undefined for silence. */
  readonly rtt?: number;
  /** traceroute's annotation for unreachables: `!H`, `!N`, `!P`, `!X`...; empty otherwise. */
  readonly mark: string;
}

/** Hop is one TTL's worth of probes. */
export interface Hop {
  readonly ttl: number;
  readonly probes: readonly Probe[];
  /** True when this hop is the target (the trace ends here). */
  readonly reached: boolean;
}

/** TracerouteOptions configure traceroute(). Durations are in milliseconds. */
export interface TracerouteOptions {
  /** The largest TTL tried; 30 by default. */
  readonly maxHops?: number;
  /** The smallest TTL tried; 1 by default. */
  readonly firstHop?: number;
  /** Probes per hop; 3 by default. */
  readonly queries?: number;
  /** How long to wait for each probe's answer; 3000 by default. */
  readonly timeout?: number;
  /** Payload bytes per probe; 32 by default (60-byte IPv4 and 80-byte IPv6 packets, as traceroute). */
  readonly size?: number;
  readonly family?: IpFamily;
  readonly signal?: AbortSignal;
  readonly trace?: Tracer;
  readonly onWire?: (event: WireEvent) => void;
}

/** DEFAULT_PROBE_PAYLOAD makes traceroute's default packet sizes: 60 bytes on IPv4, 80 on IPv6. */
export const DEFAULT_PROBE_PAYLOAD = 32;

/**
 * Traceroute is a running trace: its target and its hops as an async iterable (iterate once).
 * Each hop's probes are sent together and the hop is yielded when all have answered or timed
 * out. It ends at the target, at a hop where every answer is an unreachable, at `maxHops`, or
 * when `signal` aborts (then the iteration ends without error).
 */
export class Traceroute extends EchoRun<Hop> {
  readonly maxHops: number;
  /** Size of each probe on the wire, IP header included. */
  readonly packetSize: number;
  readonly #options: TracerouteOptions;

  constructor(host: string, session: EchoSession, options: TracerouteOptions) {
    super(host, session);
    this.maxHops = options.maxHops ?? 30;
    this.packetSize = (session.family === 4 ? 20 : 40) + 8 + (options.size ?? DEFAULT_PROBE_PAYLOAD);
    this.#options = options;
  }

  protected override async *run(): AsyncGenerator<Hop> {
    const { firstHop = 1, queries = 3, timeout = 3000, signal } = this.#options;
    const payload = patternPayload(this.#options.size ?? DEFAULT_PROBE_PAYLOAD);
    let sequence = 0;
    try {
      for (let ttl = firstHop; ttl <= this.maxHops && !signal?.aborted; ttl++) {
        const sequences = Array.from({ length: queries }, () => (sequence = (sequence + 1) % 0x10000));
        let probes: Probe[];
        try {
          probes = await Promise.all(sequences.map((seq) => this.#probe(seq, ttl, payload, timeout, signal)));
        } catch (err) {
          if (signal?.aborted) return;
          throw err;
        }
        const reached = probes.some(
          (probe) => probe.address === this.address && probe.kind !== 'time-exceeded',
        );
        yield { ttl, probes, reached };
        const answered = probes.filter((probe) => probe.kind !== 'timeout');
        if (reached || (answered.length > 0 && answered.every((probe) => probe.kind === 'unreachable')))
          return;
      }
    } finally {
      this.session.close();
    }
  }

  async #probe(
    sequence: number,
    ttl: number,
    payload: Buffer,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<Probe> {
    const outcome = await this.session.request({ sequence, ttl, payload, timeout, signal });
    if (outcome.kind === 'timeout') return { kind: 'timeout', mark: '' };
    if (outcome.kind === 'reply')
      return { kind: 'reply', address: outcome.source, rtt: outcome.rtt, mark: '' };
    const { errorKind, icmpCode, rest, source, rtt } = outcome;
    if (errorKind === 'time-exceeded') return { kind: 'time-exceeded', address: source, rtt, mark: '' };
    if (errorKind === 'destination-unreachable') {
      return {
        kind: 'unreachable',
        address: source,
        rtt,
        mark: unreachableMark(this.family, icmpCode, rest),
      };
    }
    return { kind: 'other-error', address: source, rtt, mark: `!<${outcome.icmpType}>` };
  }
}

/**
 * traceroute resolves `host` and opens a raw socket for a trace towards it. Rejects like ping():
 * ERR_HOST_NOT_FOUND, ERR_PERMISSION_DENIED, ERR_RAW_UNAVAILABLE. Throws RangeError for options
 * out of range. Iterate the result for its hops.
 */
export async function traceroute(host: string, options: TracerouteOptions = {}): Promise<Traceroute> {
  checkRange('maxHops', options.maxHops, 1, 255, true);
  checkRange('firstHop', options.firstHop, 1, options.maxHops ?? 255, true);
  checkRange('queries', options.queries, 1, 10, true);
  checkRange('size', options.size, 0, 65_000, true);
  const session = await openEchoSession('traceroute', host, options);
  return new Traceroute(host, session, options);
}
