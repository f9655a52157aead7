/**
 * The parameters of a test, as iperf3's client sends them in the parameter exchange: a JSON
 * object (`{"tcp":true,"time":10,"parallel":1,"len":131072,...}`). `paramsToWire` writes one,
 * `paramsFromWire` reads one and refuses, in one clear sentence, what sockkit does not do.
 */
import { ProtocolError } from '../errors.js';

/** PerfProtocol is the data streams' transport. */
export type PerfProtocol = 'tcp' | 'udp';

/** PerfDirection says who sends: the client (`forward`), the server (`reverse`), or both (`bidir`). */
export type PerfDirection = 'forward' | 'reverse' | 'bidir';

/** PerfParams are the settings both sides of one test agree on. */
export interface PerfParams {
  readonly protocol: PerfProtocol;
  /** Seconds of measured test, after `omit`. */
  readonly duration: number;
  /** Warm-up seconds at the start that are not counted. */
  readonly omit: number;
  /** Streams in each direction. */
  readonly parallel: number;
  readonly direction: PerfDirection;
  /** Bytes per write (TCP) or per datagram (UDP). */
  readonly blockLength: number;
  /** Target bits per second for each stream; 0 means as fast as possible. */
  readonly bitrate: number;
  /** UDP: 64-bit packet counters (a 16-byte header instead of 12). */
  readonly udpCounters64bit: boolean;
  /** The client wants the server's own report in the results (`--get-server-output`). */
  readonly getServerOutput: boolean;
  /** The peer's version string, when it sent one. */
  readonly clientVersion?: string | undefined;
  /** The sockkit version of a sockkit client: it understands sockkit's extensions. */
  readonly sockkit?: string | undefined;
}

/** DEFAULT_TCP_BLOCK and DEFAULT_UDP_BLOCK are iperf3's default block lengths. */
export const DEFAULT_TCP_BLOCK = 128 * 1024;
export const DEFAULT_UDP_BLOCK = 1460;
/** MAX_STREAMS bounds `parallel`, as iperf3 does (it allows 128). */
export const MAX_STREAMS = 128;
/** MAX_TCP_BLOCK and MAX_UDP_BLOCK bound a block, as iperf3 does. */
export const MAX_TCP_BLOCK = 1 << 20;
export const MAX_UDP_BLOCK = 65_507;
/** MAX_DURATION bounds a test, in seconds (iperf3: one day). */
export const MAX_DURATION = 86_400;

/** paramsToWire returns the JSON object a client sends for `params`. */
export function paramsToWire(params: PerfParams): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    [params.protocol]: true,
    omit: params.omit,
    time: params.duration,
    num: 0,
    blockcount: 0,
    parallel: params.parallel,
  };
  if (params.direction === 'reverse') wire.reverse = true;
  if (params.direction === 'bidir') wire.bidirectional = true;
  wire.len = params.blockLength;
  if (params.bitrate > 0) wire.bandwidth = params.bitrate;
  wire.pacing_timer = 1000;
  if (params.udpCounters64bit) wire.udp_counters_64bit = 1;
  if (params.getServerOutput) wire.get_server_output = 1;
  if (params.sockkit) wire.sockkit = params.sockkit;
  wire.client_version = params.clientVersion ?? '3.12';
  return wire;
}

/**
 * UNSUPPORTED lists the iperf3 parameters sockkit refuses, with the words a user needs: which
 * option asked for it. Anything here set to a non-default value ends the test with one line.
 */
const UNSUPPORTED: readonly (readonly [key: string, what: string])[] = [
  ['sctp', 'SCTP (--sctp)'],
  ['authtoken', 'authentication (--username/--rsa-public-key-path)'],
  ['congestion', 'a congestion-control algorithm (-C)'],
  ['window', 'a socket buffer size (-w)'],
  ['MSS', 'a maximum segment size (-M)'],
  ['TOS', 'a type of service (-S/--dscp)'],
  ['flowlabel', 'an IPv6 flow label (-L)'],
  ['fqrate', 'fair-queue pacing (--fq-rate)'],
  ['dont_fragment', "the don't-fragment bit (--dont-fragment)"],
  ['num', 'a byte count instead of a duration (-n)'],
  ['blockcount', 'a block count instead of a duration (-k)'],
  ['zerocopy', 'zero-copy sends (-Z)'],
];

/**
 * paramsFromWire reads the parameters a client sent. It throws ProtocolError naming the first
 * option sockkit does not support (`SCTP (--sctp) is not supported by sockkit perf`), or the
 * first value out of range. Unknown keys are ignored, as iperf3 ignores them.
 */
export function paramsFromWire(wire: Record<string, unknown>): PerfParams {
  const op = 'perf parameters';
  for (const [key, what] of UNSUPPORTED) {
    const value = wire[key];
    if (value !== undefined && value !== 0 && value !== false && value !== '') {
      throw new ProtocolError(op, '', `${what} is not supported by sockkit perf`);
    }
  }
  const udp = wire.udp !== undefined && wire.udp !== false;
  const tcp = wire.tcp !== undefined && wire.tcp !== false;
  if (udp && tcp) throw new ProtocolError(op, '', 'the client asked for both TCP and UDP');
  const reverse = truthy(wire.reverse);
  const bidir = truthy(wire.bidirectional);
  if (reverse && bidir) throw new ProtocolError(op, '', 'a test cannot be both reverse and bidirectional');
  const protocol: PerfProtocol = udp ? 'udp' : 'tcp';
  const maxBlock = protocol === 'udp' ? MAX_UDP_BLOCK : MAX_TCP_BLOCK;
  const defaultBlock = protocol === 'udp' ? DEFAULT_UDP_BLOCK : DEFAULT_TCP_BLOCK;
  const minBlock = protocol === 'udp' ? 16 : 1;
  return {
    protocol,
    // Seconds: iperf3 sends whole ones; a sockkit client may send a fraction (`-t 500ms`).
    duration: seconds(wire.time, 'time', 10),
    omit: seconds(wire.omit, 'omit', 0),
    parallel: integer(wire.parallel, 'parallel', 1, 1, MAX_STREAMS),
    direction: bidir ? 'bidir' : reverse ? 'reverse' : 'forward',
    blockLength: integer(wire.len, 'len', defaultBlock, minBlock, maxBlock) || defaultBlock,
    bitrate: integer(wire.bandwidth, 'bandwidth', protocol === 'udp' ? 1_000_000 : 0, 0, 2 ** 53),
    udpCounters64bit: truthy(wire.udp_counters_64bit),
    getServerOutput: truthy(wire.get_server_output),
    clientVersion: typeof wire.client_version === 'string' ? wire.client_version.slice(0, 64) : undefined,
    sockkit: typeof wire.sockkit === 'string' ? wire.sockkit.slice(0, 64) : undefined,
  };
}

function truthy(value: unknown): boolean {
  return value === true || (typeof value === 'number' && value !== 0);
}

function seconds(value: unknown, key: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DURATION) {
    throw new ProtocolError(
      'perf parameters',
      '',
      `"${key}" must be a number of seconds from 0 to ${MAX_DURATION}`,
    );
  }
  return value;
}

function integer(value: unknown, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError('perf parameters', '', `"${key}" must be an integer from ${min} to ${max}`);
  }
  return value;
}
