/**
 * traceroute: probes with a growing TTL (hop limit on IPv6). The router where a probe's TTL runs
 * out answers with time exceeded, naming itself; the target answers, and the trace stops there.
 * Probes are ICMP echo requests by default (`traceroute -I`), or TCP SYNs (`traceroute -T`: the
 * target answers SYN-ACK from an open port, RST from a closed one) or UDP datagrams (`traceroute
 * -U`: a closed port answers port unreachable) to one port, every probe of the flow alike
 * (Paris traceroute), so that routers balancing load by flow keep the trace on one path.
 */
import type { Tracer } from '../trace.js';
import {
  checkRange,
  EchoRun,
  openEchoSession,
  type ProbeSession,
  patternPayload,
  resolveTarget,
} from './echo-run.js';
import type { WireEvent } from './echo-session.js';
import { type FlowProtocol, FlowSession } from './flow-session.js';
import type { IpFamily } from './icmp.js';
import { unreachableMark } from './icmp-names.js';
import { SYN_LENGTH } from './tcp-header.js';
import { MIN_UDP_PROBE_PAYLOAD } from './udp-probe.js';

/** Probe is one probe's answer. */
export interface Probe {
  /** `reply`: the target answered; `time-exceeded`: a router did; `unreachable`; `timeout`: silence. */
  readonly kind: 'reply' | 'time-exceeded' | 'unreachable' | 'other-error' | 'timeout';
  /** Who answered; undefined for silence. */
  readonly address?: string | undefined;
  /** Round-trip time in milliseconds; undefined for silence. */
  readonly rtt?: number | undefined;
  /** traceroute's annotation for unreachables: `!H`, `!N`, `!P`, `!X`...; empty otherwise. */
  readonly mark: string;
  /** TCP probes answered by the target: true for a SYN-ACK (open port), false for a RST (closed). */
  readonly open?: boolean | undefined;
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
  readonly maxHops?: number | undefined;
  /** The smallest TTL tried; 1 by default. */
  readonly firstHop?: number | undefined;
  /** Probes per hop; 3 by default. */
  readonly queries?: number | undefined;
  /** How long to wait for each probe's answer; 3000 by default. */
  readonly timeout?: number | undefined;
  /** Payload bytes per probe; 32 by default (60-byte IPv4 and 80-byte IPv6 packets, as traceroute). */
  readonly size?: number | undefined;
  readonly family?: IpFamily | undefined;
  /** `icmp` (echo requests, the default), `tcp` (SYNs) or `udp` probes. */
  readonly protocol?: TraceProtocol | undefined;
  /** TCP and UDP: the destination port of every probe; 80 for TCP and 53 for UDP by default (as traceroute -T/-U). */
  readonly port?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** ICMP probes only: every probe sent and every answer matched, for hex dumps. */
  readonly onWire?: ((event: WireEvent) => void) | undefined;
}

/** TraceProtocol is what a trace's probes are. */
export type TraceProtocol = 'icmp' | FlowProtocol;

/** DEFAULT_TRACE_PORT is the destination port of TCP and UDP probes when none is given, as Debian's traceroute. */
export const DEFAULT_TRACE_PORT = { tcp: 80, udp: 53 } as const;

/** DEFAULT_PROBE_PAYLOAD makes traceroute's default packet sizes: 60 bytes on IPv4, 80 on IPv6. */
export const DEFAULT_PROBE_PAYLOAD = 32;

/**
 * Traceroute is a running trace: its target and its hops as an async iterable (iterate once).
 * Each hop's probes are sent together and the hop is yielded when all have answered or timed
 * out. It ends at the target, at a hop where every answer is an unreachable, at `maxHops`, or
 * when `signal` aborts (then the iteration ends without error).
 */
export class Traceroute extends EchoRun<Hop, ProbeSession> {
  readonly maxHops: number;
  readonly protocol: TraceProtocol;
  /** TCP and UDP: the destination port of the probes. */
  readonly port: number | undefined;
  /** Size of each probe on the wire, IP header included. */
  readonly packetSize: number;
  readonly #options: TracerouteOptions;

  constructor(host: string, session: ProbeSession, options: TracerouteOptions) {
    super(host, session);
    this.maxHops = options.maxHops ?? 30;
    this.protocol = options.protocol ?? 'icmp';
    this.port = session instanceof FlowSession ? session.port : undefined;
    const transport = this.protocol === 'tcp' ? SYN_LENGTH : 8 + (options.size ?? DEFAULT_PROBE_PAYLOAD);
    this.packetSize = (session.family === 4 ? 20 : 40) + transport;
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
    if (outcome.kind === 'reply') {
      const open = outcome.open === undefined ? {} : { open: outcome.open };
      return { kind: 'reply', address: outcome.source, rtt: outcome.rtt, mark: '', ...open };
    }
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
 * traceroute resolves `host` and opens the raw sockets for a trace towards it. Rejects like
 * ping(): ERR_HOST_NOT_FOUND, ERR_PERMISSION_DENIED, ERR_RAW_UNAVAILABLE; ERR_UNREACHABLE when
 * there is no route for TCP or UDP probes. Throws RangeError for options out of range. Iterate
 * the result for its hops.
 */
export async function traceroute(host: string, options: TracerouteOptions = {}): Promise<Traceroute> {
  checkRange('maxHops', options.maxHops, 1, 255, true);
  checkRange('firstHop', options.firstHop, 1, options.maxHops ?? 255, true);
  checkRange('queries', options.queries, 1, 10, true);
  checkRange('size', options.size, options.protocol === 'udp' ? MIN_UDP_PROBE_PAYLOAD : 0, 65_000, true);
  checkRange('port', options.port, 1, 65_535, true);
  const protocol = options.protocol ?? 'icmp';
  if (protocol === 'icmp') {
    if (options.port !== undefined) throw new RangeError('port applies to tcp and udp probes, not icmp');
    const session = await openEchoSession('traceroute', host, options);
    return new Traceroute(host, session, options);
  }
  const target = await resolveTarget('traceroute', host, options.family);
  const session = await FlowSession.open(target.ip, target.family, protocol, {
    port: options.port ?? DEFAULT_TRACE_PORT[protocol],
    payloadLength: options.size ?? DEFAULT_PROBE_PAYLOAD,
    trace: options.trace,
    op: 'traceroute',
    url: host,
  });
  return new Traceroute(host, session, options);
}
