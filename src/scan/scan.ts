/**
 * scan: which ports of one host accept a connection (TCP), answer a datagram (UDP), and speak TLS,
 * the job `nc -z` is scripted for. A connect scan needs no privileges: it is the system's own
 * connect(), so what it reports is what any client on this host would meet.
 */
import { setMaxListeners } from 'node:events';
import { type Socket, connect as tcpConnect } from 'node:net';
import { formatHostPort, parseAddress } from '../address.js';
import { request } from '../datagram/request.js';
import {
  AddressError,
  fromSystemError,
  HostNotFoundError,
  rewrap,
  SockkitError,
  UsageError,
} from '../errors.js';
import { checkLocalEnd, familyToTry } from '../local-end.js';
import { checkRange } from '../raw/echo-run.js';
import { resolveHost } from '../resolve.js';
import { type TlsCheck, type TlsCheckOptions, tlsCheck } from './tls-check.js';

/**
 * PortState is what a probe concluded, in nmap's words: `open`; `closed` (refused: a TCP RST or
 * an ICMP port unreachable); `filtered` (no answer to a TCP connect, or an ICMP unreachable from a
 * router or firewall); `open|filtered` (a UDP port that stayed silent: it may be open and
 * ignoring the probe, or a firewall may have dropped it).
 */
export type PortState = 'open' | 'closed' | 'filtered' | 'open|filtered';

/**
 * PortReason says what the state was concluded from: `connected`, `reply` (a UDP answer),
 * `refused` (TCP RST), `port unreachable` (ICMP), `timed out`, `no reply`, `unreachable` (no
 * route, host unreachable), `prohibited` (a local firewall refused to send).
 */
export type PortReason =
  | 'connected'
  | 'reply'
  | 'refused'
  | 'port unreachable'
  | 'timed out'
  | 'no reply'
  | 'unreachable'
  | 'prohibited';

/** PortResult is one port's outcome. */
export interface PortResult {
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
  readonly state: PortState;
  readonly reason: PortReason;
  /** Milliseconds until the answer that decided the state; undefined when nothing answered. */
  readonly rtt?: number | undefined;
  /** The TLS check of an open TCP port, when `tls` was asked for. */
  readonly tls?: TlsCheck | undefined;
}

/** ScanOptions configure scan(). Durations are in milliseconds. */
export interface ScanOptions {
  /** `tcp` (a connect scan, the default) or `udp`. */
  readonly protocol?: 'tcp' | 'udp' | undefined;
  /** How long one probe waits for an answer; 1000 by default. */
  readonly timeout?: number | undefined;
  /** Probes in flight at once; 100 by default for TCP, 10 for UDP (ICMP errors are rate-limited). */
  readonly concurrency?: number | undefined;
  /** UDP: how many times to send again before calling a silent port open|filtered; 1 by default. */
  readonly retries?: number | undefined;
  /** UDP: the datagram each probe sends; empty by default. */
  readonly payload?: Uint8Array | string | undefined;
  /** Resolve the host to IPv4 (4) or IPv6 (6) only. Default: both, or `localAddress`'s family. */
  readonly family?: 4 | 6 | undefined;
  /** The local IP address every probe is sent from (`nc -z -s`). Default: the kernel's choice. */
  readonly localAddress?: string | undefined;
  /** TCP: try a TLS handshake on every open port (true, or the check's options). */
  readonly tls?: boolean | TlsCheckOptions | undefined;
  /** Aborting it stops the scan: the iteration ends after the ports already finished. */
  readonly signal?: AbortSignal | undefined;
}

/** DEFAULT_SCAN_TIMEOUT is how long a probe waits by default, in milliseconds. */
export const DEFAULT_SCAN_TIMEOUT = 1000;

/**
 * Scan is a running scan of one host: its address, and its results, one per port in ascending
 * port order, as an async iterable (iterate once). Probes run `concurrency` at a time, however
 * fast the results are consumed.
 */
export class Scan implements AsyncIterable<PortResult> {
  /** The host as given. */
  readonly host: string;
  /** The IP address it resolved to, which every probe goes to. */
  readonly address: string;
  readonly family: 4 | 6;
  readonly ports: readonly number[];
  readonly #options: ScanOptions;
  #started = false;

  constructor(host: string, address: string, family: 4 | 6, ports: readonly number[], options: ScanOptions) {
    this.host = host;
    this.address = address;
    this.family = family;
    this.ports = ports;
    this.#options = options;
  }

  [Symbol.asyncIterator](): AsyncIterator<PortResult> {
    if (this.#started) throw new Error('a Scan can be iterated only once');
    this.#started = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<PortResult> {
    const udp = this.#options.protocol === 'udp';
    const concurrency = this.#options.concurrency ?? (udp ? 10 : 100);
    // One signal of our own for the probes: every probe in flight listens to it, and it also
    // stops them when the consumer breaks off.
    const stop = new AbortController();
    const signal = stop.signal;
    setMaxListeners(concurrency + 16, signal);
    const onAbort = (): void => stop.abort();
    this.#options.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#options.signal?.aborted) stop.abort();
    const outcomes = new Map<number, Promise<PortResult | undefined>>();
    const waiters = new Map<number, () => void>();
    let next = 0;
    // A failure of this host's own (out of descriptors) ends the scan at once, before any result
    // still pending: probes starved by it would be reported as timed out when they were not.
    let fail: (err: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    failed.catch(() => {});
    // A fixed pool of workers takes the ports in order; results wait in `outcomes` to be yielded
    // in port order.
    const worker = async (): Promise<void> => {
      while (next < this.ports.length && !signal?.aborted) {
        const port = this.ports[next++] as number;
        const outcome = this.#probe(port, signal);
        outcomes.set(port, outcome);
        waiters.get(port)?.();
        await outcome.catch((err: unknown) => {
          next = this.ports.length;
          fail(err);
        });
      }
    };
    const workers = Array.from({ length: Math.min(concurrency, this.ports.length) }, worker);
    const stopped = Promise.all(workers).then(() => undefined);
    try {
      for (const port of this.ports) {
        let outcome = outcomes.get(port);
        if (!outcome) {
          // Not started yet: wait until a worker takes it, or every worker has stopped (abort).
          await Promise.race([new Promise<void>((resolve) => waiters.set(port, resolve)), stopped, failed]);
          outcome = outcomes.get(port);
          if (!outcome) return;
        }
        const result = await Promise.race([outcome, failed]);
        outcomes.delete(port);
        if (!result) return; // aborted mid-probe
        yield result;
      }
    } finally {
      // Stop the workers (a consumer that broke off, or a failure) and let their sockets close.
      next = this.ports.length;
      this.#options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  #probe(port: number, signal: AbortSignal): Promise<PortResult | undefined> {
    const options = this.#options;
    const timeout = options.timeout ?? DEFAULT_SCAN_TIMEOUT;
    if (options.protocol === 'udp') return this.#probeUdp(port, timeout, signal);
    const tls = options.tls === true ? {} : options.tls || undefined;
    const local = this.#options.localAddress;
    return probeTcp(this.address, port, timeout, signal, tls && { ...tls, host: this.host }, local);
  }

  async #probeUdp(port: number, timeout: number, signal: AbortSignal): Promise<PortResult | undefined> {
    const options = this.#options;
    const url = `udp://${formatHostPort(this.address, port)}`;
    const started = performance.now();
    const base = { port, protocol: 'udp' as const };
    try {
      await request({ scheme: 'udp', host: this.address, port }, options.payload ?? '', {
        timeout,
        retries: options.retries ?? 1,
        signal,
        localAddress: options.localAddress,
      });
      return { ...base, state: 'open', reason: 'reply', rtt: performance.now() - started };
    } catch (err) {
      const failure = rewrap(err, 'scan', url);
      const rtt = performance.now() - started;
      switch (failure.code) {
        case 'ERR_ABORTED':
          return undefined;
        case 'ERR_CONNECTION_REFUSED':
          return { ...base, state: 'closed', reason: 'port unreachable', rtt };
        case 'ERR_NO_REPLY':
          return { ...base, state: 'open|filtered', reason: 'no reply' };
        case 'ERR_UNREACHABLE':
          return { ...base, state: 'filtered', reason: 'unreachable', rtt };
        case 'ERR_PERMISSION_DENIED':
          return { ...base, state: 'filtered', reason: 'prohibited' };
        default:
          throw failure;
      }
    }
  }
}

/**
 * probeTcp connects to `ip`:`port` once and says what happened; an open port's connection is
 * reset at once (no TIME_WAIT left behind), after the TLS check when one is asked for. Resolves
 * undefined when `signal` aborts; rejects with the SockkitError of a local failure (out of
 * descriptors, no local port left), which no other port would escape either.
 */
function probeTcp(
  ip: string,
  port: number,
  timeout: number,
  signal: AbortSignal | undefined,
  tls: (TlsCheckOptions & { host: string }) | undefined,
  localAddress?: string,
): Promise<PortResult | undefined> {
  const url = `tcp://${formatHostPort(ip, port)}`;
  const base = { port, protocol: 'tcp' as const };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve(undefined);
    const socket: Socket = tcpConnect({ host: ip, port, ...(localAddress ? { localAddress } : {}) });
    /** finish closes the socket and settles: with the result, or rejected with a local failure. */
    const finish = (result: PortResult | undefined | SockkitError, reset = false): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      socket.on('error', () => {}); // a late error on a socket given up on is of no interest
      if (reset && !socket.destroyed) socket.resetAndDestroy();
      else socket.destroy();
      if (result instanceof SockkitError) reject(result);
      else resolve(result);
    };
    const onAbort = (): void => finish(undefined);
    const timer = setTimeout(() => finish({ ...base, state: 'filtered', reason: 'timed out' }), timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      const open: PortResult = {
        ...base,
        state: 'open',
        reason: 'connected',
        rtt: performance.now() - started,
      };
      if (!tls) return finish(open, true);
      clearTimeout(timer);
      tlsCheck(socket, url, { ...tls, timeout: tls.timeout ?? timeout, signal }).then(
        (check) => finish(check ? { ...open, tls: check } : undefined, true),
        (err: unknown) => finish(rewrap(err, 'scan', url)),
      );
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const rtt = performance.now() - started;
      const failure = fromSystemError('scan', url, err);
      switch (failure.code) {
        case 'ERR_CONNECTION_REFUSED':
        case 'ERR_CONNECTION_RESET':
          return finish({ ...base, state: 'closed', reason: 'refused', rtt });
        case 'ERR_UNREACHABLE':
          return finish({ ...base, state: 'filtered', reason: 'unreachable', rtt });
        case 'ERR_TIMEOUT':
          return finish({ ...base, state: 'filtered', reason: 'timed out' });
        case 'ERR_PERMISSION_DENIED':
          return finish({ ...base, state: 'filtered', reason: 'prohibited' });
        default:
          return finish(failure);
      }
    });
  });
}

/**
 * checkHost throws UsageError for a host no address could name (empty, spaces, a stray `-`), by
 * the rule every URL's host follows; left to the resolver, an empty one made Node print a
 * deprecation warning, and every malformed one read as "host not found".
 */
function checkHost(host: string): void {
  try {
    parseAddress(`tcp://${formatHostPort(host, 1)}`);
  } catch (err) {
    if (!(err instanceof AddressError)) throw err;
    throw new UsageError('scan', `${JSON.stringify(host)} is not a host name or IP address`);
  }
}

/**
 * scan resolves `host` (to its first address of `family`) and returns the Scan of `ports` there;
 * iterate it for the results. Rejects with ERR_HOST_NOT_FOUND when the name does not resolve,
 * and with UsageError when `host` is not a host name or IP address at all. Throws RangeError
 * for an option out of range or a port outside 1-65535. The iteration rejects only for a
 * failure of this host's own (ERR_IO: out of descriptors, no local port left).
 */
export async function scan(host: string, ports: readonly number[], options: ScanOptions = {}): Promise<Scan> {
  checkRange('timeout', options.timeout, 1, 2 ** 31 - 1);
  checkRange('concurrency', options.concurrency, 1, 10_000, true);
  checkRange('retries', options.retries, 0, 100, true);
  for (const port of ports) checkRange('port', port, 1, 65_535, true);
  if (options.tls && options.protocol === 'udp') throw new RangeError('tls applies to TCP scans only');
  checkHost(host);
  let resolved: { ip: string; family: 4 | 6 } | undefined;
  try {
    checkLocalEnd('scan', options, host);
    [resolved] = await resolveHost(host, familyToTry(options.family, options));
  } catch (err) {
    throw fromSystemError('scan', host, err);
  }
  if (!resolved) throw new HostNotFoundError('scan', host);
  return new Scan(host, resolved.ip, resolved.family, ports, options);
}
