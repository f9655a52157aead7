/**
 * ping: ICMP echo requests to one host at an interval, each reply (or the error that answered
 * instead) as an event, the way iputils `ping` works. `echo` sends a single request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, fromSystemError, SockkitError } from '../errors.js';
import type { Tracer } from '../trace.js';
import { checkRange, EchoRun, openEchoSession, patternPayload } from './echo-run.js';
import type { EchoErrorOutcome, EchoOutcome, EchoReply, EchoSession, WireEvent } from './echo-session.js';
import type { IpFamily } from './icmp.js';

/** DEFAULT_PAYLOAD is iputils' default: 56 data bytes, 64 with the ICMP header. */
export const DEFAULT_PAYLOAD = 56;

/** MAX_PAYLOAD is the largest echo payload per family: what fits in one IP datagram. */
export const MAX_PAYLOAD: Readonly<Record<IpFamily, number>> = { 4: 65_535 - 20 - 8, 6: 65_535 - 8 };

/** PingOptions configure ping() and pingOnce(). Durations are in milliseconds. */
export interface PingOptions {
  /** Requests to send; unlimited by default (stop with `signal`). */
  readonly count?: number | undefined;
  /** Time between requests; 1000 by default. */
  readonly interval?: number | undefined;
  /** Payload bytes after the 8-byte ICMP header; 56 by default. */
  readonly size?: number | undefined;
  /** TTL (IPv4) or hop limit (IPv6); the system's default when unset. */
  readonly ttl?: number | undefined;
  /** How long to wait for each reply; 2000 by default. */
  readonly timeout?: number | undefined;
  /** Resolve the host to IPv4 (4) or IPv6 (6) only; the resolver's first answer by default. */
  readonly family?: IpFamily | undefined;
  /** Stops sending and waiting: the iteration ends, the summary covers what was sent. */
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** Called for every packet sent and every matching packet received (for hex dumps). */
  readonly onWire?: ((event: WireEvent) => void) | undefined;
}

/** PingEvent is one thing that happened during a ping. */
export type PingEvent =
  | { readonly type: 'sent'; readonly sequence: number }
  | ({ readonly type: 'reply' } & Omit<EchoReply, 'kind'>)
  | ({ readonly type: 'error' } & Omit<EchoErrorOutcome, 'kind'>)
  | { readonly type: 'timeout'; readonly sequence: number }
  | { readonly type: 'send-error'; readonly sequence: number; readonly error: SockkitError };

/**
 * Ping is a running ping: the address it targets, and its events as an async iterable (iterate
 * once). Requests are sent as the iteration runs; it ends after `count` requests have all been
 * answered or timed out, or at once when `signal` aborts. Breaking out of the loop closes it.
 */
export class Ping extends EchoRun<PingEvent> {
  /** Payload bytes per request. */
  readonly size: number;
  readonly #options: PingOptions;

  constructor(host: string, session: EchoSession, options: PingOptions) {
    super(host, session);
    this.size = options.size ?? DEFAULT_PAYLOAD;
    this.#options = options;
  }

  /** identifier is the ICMP echo identifier this ping's requests carry. */
  get identifier(): number {
    return this.session.identifier;
  }

  protected override async *run(): AsyncGenerator<PingEvent> {
    const { count = Number.POSITIVE_INFINITY, interval = 1000, timeout = 2000, ttl } = this.#options;
    // Stopped by the caller's signal, or by the loop ending early (a `break` in for await).
    const stop = new AbortController();
    const signal = this.#options.signal ? AbortSignal.any([this.#options.signal, stop.signal]) : stop.signal;
    const payload = patternPayload(this.size);
    const queue: PingEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (event: PingEvent): void => {
      queue.push(event);
      wake?.();
    };
    let outstanding = 0;
    let sending = true;
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort);
    // Duplicates (iputils' DUP!) and replies that came after their timeout are events too.
    this.session.onLate = (reply) => push(toEvent(reply));
    const send = (sequence: number): void => {
      outstanding += 1;
      push({ type: 'sent', sequence });
      this.session
        .request({ sequence, payload, ttl, timeout, signal })
        .then((outcome) => push(toEvent(outcome)))
        .catch((err: unknown) => {
          if (err instanceof AbortError) return;
          const error = err instanceof SockkitError ? err : fromSystemError('ping', this.address, err);
          push({ type: 'send-error', sequence, error });
        })
        .finally(() => {
          outstanding -= 1;
          wake?.();
        });
    };
    const sender = (async (): Promise<void> => {
      try {
        for (let sent = 0; sent < count && !signal.aborted; sent++) {
          if (sent > 0) await sleep(interval, undefined, { signal });
          send((sent + 1) % 0x10000);
        }
      } catch {
        // aborted while waiting for the next send
      } finally {
        sending = false;
        wake?.();
      }
    })();
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as PingEvent;
        if (signal.aborted || (!sending && outstanding === 0)) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      stop.abort();
      this.session.close();
      await sender;
    }
  }
}

/**
 * ping resolves `host` (a name or an IP literal, no port: ICMP has none) and opens a raw socket
 * for it. Rejects with ERR_HOST_NOT_FOUND, ERR_PERMISSION_DENIED (no root or CAP_NET_RAW) or
 * ERR_RAW_UNAVAILABLE (the addon is missing). Iterate the result to send and receive.
 */
export async function ping(host: string, options: PingOptions = {}): Promise<Ping> {
  return new Ping(host, await openSession('ping', host, options), options);
}

/** openSession checks `options`, resolves `host` and opens the raw socket `op` sends its echoes on. */
function openSession(op: 'ping' | 'echo', host: string, options: PingOptions): Promise<EchoSession> {
  checkRange('count', options.count, 1, Number.POSITIVE_INFINITY);
  checkRange('interval', options.interval, 1, 3_600_000);
  checkRange('size', options.size, 0, MAX_PAYLOAD[options.family ?? 4]);
  checkRange('ttl', options.ttl, 1, 255);
  checkRange('timeout', options.timeout, 1, 3_600_000);
  return openEchoSession(op, host, options);
}

/**
 * pingOnce sends one echo request to `host` and resolves with its outcome: the reply, the ICMP error
 * that answered instead (time exceeded, unreachable), or a timeout. `count` and `interval` are
 * ignored. Rejects like ping() for a host it cannot resolve or a socket it cannot open.
 */
export async function pingOnce(
  host: string,
  options: PingOptions = {},
): Promise<EchoOutcome & { address: string }> {
  const session = await openSession('echo', host, options);
  try {
    const outcome = await session.request({
      sequence: 1,
      payload: patternPayload(options.size ?? DEFAULT_PAYLOAD),
      ttl: options.ttl,
      timeout: options.timeout ?? 2000,
      signal: options.signal,
    });
    return { ...outcome, address: session.address };
  } finally {
    session.close();
  }
}

function toEvent(outcome: EchoOutcome): PingEvent {
  const { kind, ...rest } = outcome;
  return { type: kind, ...rest } as PingEvent;
}
