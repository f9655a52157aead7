/**
 * traceroute: ICMP echo probes with a growing TTL (hop limit on IPv6), the method of
 * `traceroute -I`. The router where a probe's TTL runs out answers with time exceeded, naming
 * itself; the target answers with an echo reply, and the trace stops there.
 */
import type { Tracer } from '../trace.js';
import { EchoSession, type WireEvent } from './echo-session.js';
import type { IpFamily } from './icmp.js';
import { unreachableMark } from './icmp-names.js';
import { patternPayload, resolveTarget } from './ping.js';

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
export class Traceroute implements AsyncIterable<Hop> {
  readonly host: string;
  readonly address: string;
  readonly family: IpFamily;
  readonly maxHops: number;
  /** Size of each probe on the wire, IP header included. */
  readonly packetSize: number;
  readonly #session: EchoSession;
  readonly #options: TracerouteOptions;
  #started = false;

  constructor(host: string, session: EchoSession, options: TracerouteOptions) {
    this.host = host;
    this.#session = session;
    this.address = session.address;
    this.family = session.family;
    this.maxHops = options.maxHops ?? 30;
    this.packetSize = (session.family === 4 ? 20 : 40) + 8 + (options.size ?? DEFAULT_PROBE_PAYLOAD);
    this.#options = options;
  }

  [Symbol.asyncIterator](): AsyncIterator<Hop> {
    if (this.#started) throw new Error('a Traceroute can be iterated only once');
    this.#started = true;
    return this.#run();
  }

  /** close stops the trace and closes its socket, if the iteration has not already. */
  close(): void {
    this.#session.close();
  }

  async *#run(): AsyncGenerator<Hop> {
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
      this.#session.close();
    }
  }

  async #probe(
    sequence: number,
    ttl: number,
    payload: Buffer,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<Probe> {
    const outcome = await this.#session.request({ sequence, ttl, payload, timeout, signal });
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
  const check = (name: string, value: number | undefined, min: number, max: number): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
      throw new RangeError(`${name} must be a whole number from ${min} to ${max}, got ${value}`);
    }
  };
  check('maxHops', options.maxHops, 1, 255);
  check('firstHop', options.firstHop, 1, options.maxHops ?? 255);
  check('queries', options.queries, 1, 10);
  check('size', options.size, 0, 65_000);
  const target = await resolveTarget('traceroute', host, options.family);
  const session = await EchoSession.open(target.ip, target.family, {
    trace: options.trace,
    onWire: options.onWire,
    op: 'traceroute',
    url: host,
  });
  return new Traceroute(host, session, options);
}
