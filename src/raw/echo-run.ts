/**
 * What ping and traceroute share: resolving the target to one address, opening the raw socket
 * their echo requests go out on, checking numeric options, and a run that is iterated once and
 * closes its socket when it ends.
 */
import { fromSystemError } from '../errors.js';
import { resolveHost } from '../resolve.js';
import type { Tracer } from '../trace.js';
import {
  type EchoErrorOutcome,
  type EchoRequestOptions,
  EchoSession,
  type EchoTimeout,
  type WireEvent,
} from './echo-session.js';
import type { IpFamily } from './icmp.js';
import { ipv6FromBytes, ipv6ToBytes } from './ip-address.js';

/** EchoTargetOptions choose the address a run is sent to and watch its socket. */
export interface EchoTargetOptions {
  /** Resolve the host to IPv4 (4) or IPv6 (6) only; the resolver's first answer by default. */
  readonly family?: IpFamily | undefined;
  readonly trace?: Tracer | undefined;
  /** Called for every packet sent and every matching packet received (for hex dumps). */
  readonly onWire?: ((event: WireEvent) => void) | undefined;
}

/** ProbeReply is the target's own answer to a probe: an echo reply, a TCP SYN-ACK or RST, a UDP reply. */
export interface ProbeReply {
  readonly kind: 'reply';
  readonly sequence: number;
  readonly source: string;
  readonly rtt: number;
  /** TCP: true for a SYN-ACK (the port is open), false for a RST (closed); undefined for ICMP. */
  readonly open?: boolean | undefined;
}

/** ProbeOutcome is how one probe ended: the target's answer, an ICMP error quoting it, or silence. */
export type ProbeOutcome = ProbeReply | EchoErrorOutcome | EchoTimeout;

/**
 * ProbeSession sends probes with a chosen TTL to one address and matches their answers: ICMP
 * echo requests (EchoSession), or TCP SYNs and UDP datagrams of one flow (FlowSession).
 */
export interface ProbeSession {
  readonly address: string;
  readonly family: IpFamily;
  request(options: EchoRequestOptions): Promise<ProbeOutcome>;
  close(): void;
}

/**
 * EchoRun is a run of probes towards one host (a ping, a trace): its target, and its events as
 * an async iterable, iterated once. Ending the iteration, or `close`, closes the socket.
 */
export abstract class EchoRun<T, S extends ProbeSession = EchoSession> implements AsyncIterable<T> {
  /** The host as given. */
  readonly host: string;
  /** The IP address it resolved to. */
  readonly address: string;
  readonly family: IpFamily;
  protected readonly session: S;
  #started = false;

  constructor(host: string, session: S) {
    this.host = host;
    this.session = session;
    this.address = session.address;
    this.family = session.family;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#started) throw new Error(`a ${this.constructor.name} can be iterated only once`);
    this.#started = true;
    return this.run();
  }

  /** close stops the run and closes its socket, if the iteration has not already. */
  close(): void {
    this.session.close();
  }

  /** run sends the requests and yields what happens, closing the session when it ends. */
  protected abstract run(): AsyncGenerator<T>;
}

/** openEchoSession resolves `host` and opens the raw socket `op` sends its echo requests on. */
export async function openEchoSession(
  op: string,
  host: string,
  options: EchoTargetOptions,
): Promise<EchoSession> {
  const target = await resolveTarget(op, host, options.family);
  return EchoSession.open(target.ip, target.family, {
    trace: options.trace,
    onWire: options.onWire,
    op,
    url: host,
  });
}

/** resolveTarget resolves `host` to its first address of `family`, as a SockkitError for `op` on failure. */
export async function resolveTarget(
  op: string,
  host: string,
  family?: IpFamily,
): Promise<{ ip: string; family: IpFamily }> {
  try {
    const [first] = (await resolveHost(host, family)) as Array<{ ip: string; family: IpFamily }>;
    if (!first || first.family === 4) return first as { ip: string; family: IpFamily };
    // Canonical text (RFC 5952), so it compares equal to the source address of a reply.
    const zone = /%.*$/.exec(first.ip)?.[0] ?? '';
    return { ip: ipv6FromBytes(ipv6ToBytes(first.ip)) + zone, family: 6 };
  } catch (err) {
    throw fromSystemError(op, host, err);
  }
}

/** patternPayload fills `size` bytes with 0x00, 0x01, ... so a changed byte in a reply shows. */
export function patternPayload(size: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = i & 0xff;
  return payload;
}

/**
 * checkRange throws RangeError unless `value` (when given) lies in [min, max], and is whole when
 * `whole` is set: library callers passing a wrong number is a programming error.
 */
export function checkRange(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
  whole = false,
): void {
  if (value === undefined) return;
  if (value >= min && value <= max && (!whole || Number.isInteger(value))) return;
  const what = whole ? 'a whole number from' : 'from';
  throw new RangeError(`${name} must be ${what} ${min} to ${max}, got ${value}`);
}
