/**
 * waitFor: wait until services are up, the loop people script around `nc -z` before starting
 * something that needs them. Each address is tried again with back-off until it accepts a
 * connection (a TLS handshake for `tls://`, an expected reply with `expect`), or the time is up.
 */
import { formatAddress, type SocketAddress } from './address.js';
import { request } from './datagram/request.js';
import {
  AbortError,
  isUsageCode,
  optionError,
  ProtocolError,
  rewrap,
  SchemeError,
  type SockkitError,
  TimeoutError,
} from './errors.js';
import { dial, withDeadline } from './stream/dial.js';
// Imported for its effect too: it teaches `dial` the tls:// scheme (see stream/tls.ts).
import type { TlsClientOptions } from './stream/tls.js';
import type { Tracer } from './trace.js';
import { formatDuration, MAX_TIMER } from './units.js';

/** WaitOptions configure waitFor(). Durations are in milliseconds. */
export interface WaitOptions {
  /** How long to wait for everything, in all; 30000 by default. */
  readonly timeout?: number | undefined;
  /** The bound on each attempt (a connect, a handshake, a reply); 1000 by default. */
  readonly attemptTimeout?: number | undefined;
  /** The first pause between attempts at one address; it doubles after each failure. 100 by default. */
  readonly minDelay?: number | undefined;
  /** The longest pause between attempts; 2000 by default. */
  readonly maxDelay?: number | undefined;
  /** Bytes to send once connected (the datagram to send, for `udp://`). */
  readonly send?: Uint8Array | string | undefined;
  /** Bytes the reply must contain before the service counts as up. Required for `udp://` (or `send`). */
  readonly expect?: Uint8Array | string | undefined;
  /** Try only IPv4 (4) or only IPv6 (6) addresses of a name. */
  readonly family?: 4 | 6 | undefined;
  /** TLS options for `tls://` addresses (CA, server name, ...). */
  readonly tls?: TlsClientOptions | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly trace?: Tracer | undefined;
  /** Called after each failed attempt, with its error and the pause before the next. */
  readonly onRetry?: ((address: SocketAddress, error: SockkitError, delay: number) => void) | undefined;
  /** Called once an address is up. */
  readonly onUp?: ((ready: WaitResult) => void) | undefined;
}

/** WaitResult says when one address came up. */
export interface WaitResult {
  readonly address: SocketAddress;
  /** Attempts made, the successful one included. */
  readonly attempts: number;
  /** Milliseconds from the start until it was up. */
  readonly elapsed: number;
}

/** MAX_EXPECT_BYTES bounds what an attempt reads while looking for `expect`: a chatty service cannot fill memory. */
export const MAX_EXPECT_BYTES = 64 * 1024;

/**
 * waitFor tries every address at once, each again and again with back-off, until all of them are
 * up; it resolves with when each came up, in the order given. Rejects with a TimeoutError
 * (`wait URL...: not up within 30s: URL: connection refused`) naming every address that never
 * came up and its last failure, an AbortError when `signal` aborts, and a UsageError for a
 * `udp://` address without `expect` or `send` (a datagram socket has no connection to wait for).
 */
export async function waitFor(
  addresses: readonly SocketAddress[],
  options: WaitOptions = {},
): Promise<WaitResult[]> {
  const timeout = options.timeout ?? 30_000;
  for (const [name, value, min] of [
    ['timeout', timeout, 1],
    ['attemptTimeout', options.attemptTimeout, 1],
    ['minDelay', options.minDelay, 0],
    ['maxDelay', options.maxDelay, 0],
  ] as const) {
    if (value !== undefined && !(value >= min && value <= MAX_TIMER))
      throw new RangeError(`${name} must be from ${min} to ${MAX_TIMER} ms, got ${value}`);
  }
  for (const address of addresses) {
    if (!['tcp', 'tls', 'unix', 'udp'].includes(address.scheme))
      throw new SchemeError('wait', formatAddress(address), address.scheme, ['tcp', 'tls', 'unix', 'udp']);
  }
  if (addresses.length === 0) throw new RangeError('waitFor needs at least one address');
  const expectBytes = options.expect === undefined ? undefined : Buffer.from(options.expect);
  if (expectBytes && (expectBytes.length === 0 || expectBytes.length > MAX_EXPECT_BYTES))
    throw optionError('wait', 'expect', `must be from 1 to ${MAX_EXPECT_BYTES} bytes`);
  const udp = addresses.find((address) => address.scheme === 'udp');
  if (udp && options.expect === undefined && options.send === undefined) {
    throw optionError(
      'wait',
      'expect',
      'is needed for udp://: a datagram socket has no connection to wait for, only replies',
      formatAddress(udp),
    );
  }
  const started = performance.now();
  const deadline = Date.now() + timeout;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();
  const lastErrors = new Map<SocketAddress, SockkitError>();
  const done = new Set<SocketAddress>();
  const label = addresses.map(formatAddress).join(' ');
  try {
    const all = Promise.all(
      addresses.map(async (address) => {
        let delay = options.minDelay ?? 100;
        for (let attempts = 1; ; attempts++) {
          try {
            await attempt(address, expectBytes, options, deadline, stop.signal);
            const ready = { address, attempts, elapsed: performance.now() - started };
            done.add(address);
            options.onUp?.(ready);
            return ready;
          } catch (err) {
            if (stop.signal.aborted) throw err;
            const failure = rewrap(err, 'wait', formatAddress(address));
            // A mistake of the caller's (a bad option for this address) will not fix itself.
            if (failure.code === 'ERR_ABORTED' || isUsageCode(failure.code)) throw failure;
            lastErrors.set(address, failure);
            const pause = Math.min(delay, Math.max(0, deadline - Date.now()));
            options.onRetry?.(address, failure, pause);
            await sleep(pause, stop.signal);
            delay = Math.min(delay * 2, options.maxDelay ?? 2000);
          }
        }
      }),
    );
    return await withDeadline(all, deadline, options.signal, label, 'wait');
  } catch (err) {
    if (err instanceof TimeoutError) {
      throw notUp(
        addresses.filter((address) => !done.has(address)),
        lastErrors,
        timeout,
      );
    }
    throw err instanceof AbortError ? new AbortError('wait', label) : err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

/** notUp words the timeout: every address that never came up, with its last failure. */
function notUp(
  missing: readonly SocketAddress[],
  lastErrors: ReadonlyMap<SocketAddress, SockkitError>,
  timeout: number,
): TimeoutError {
  const urls = missing.map(formatAddress);
  const causes = missing.map((address) => {
    const last = lastErrors.get(address);
    return `${formatAddress(address)}: ${last ? last.reason : 'no attempt finished'}`;
  });
  return new TimeoutError(
    'wait',
    urls.join(' '),
    `not up within ${formatDuration(timeout)}: ${causes.join('; ')}`,
  );
}

/** attempt makes one try at `address`: connect (and handshake), then send and look for the expected reply. */
async function attempt(
  address: SocketAddress,
  expect: Buffer | undefined,
  options: WaitOptions,
  deadline: number,
  signal: AbortSignal,
): Promise<void> {
  const url = formatAddress(address);
  const bound = Math.max(1, Math.min(options.attemptTimeout ?? 1000, deadline - Date.now()));
  if (address.scheme === 'udp') {
    const reply = await request(address, options.send ?? '', {
      timeout: bound,
      retries: 0,
      family: options.family,
      signal,
    });
    if (expect && !reply.data.includes(expect)) throw unexpected(url, expect);
    return;
  }
  const attemptEnds = Date.now() + bound;
  const conn = await dial(address, {
    timeout: bound,
    family: options.family,
    signal,
    trace: options.trace,
    tls: address.scheme === 'tls' ? options.tls : undefined,
  });
  try {
    // The send is bounded too: a peer that accepts but never reads must not hold the attempt.
    const exchange = async (): Promise<void> => {
      if (options.send !== undefined) await conn.send(options.send);
      if (!expect) return;
      let seen = Buffer.alloc(0);
      for await (const chunk of conn) {
        seen = Buffer.concat([seen, chunk]);
        if (seen.includes(expect)) return;
        // Keep only what could still be the start of a match, so reading stays bounded.
        if (seen.length > MAX_EXPECT_BYTES) seen = seen.subarray(seen.length - expect.length + 1);
      }
      throw unexpected(url, expect);
    };
    await withDeadline(exchange(), attemptEnds, signal, url, 'wait');
  } finally {
    conn.close();
  }
}

function unexpected(url: string, expect: Buffer): ProtocolError {
  const shown = JSON.stringify(expect.toString('utf8').slice(0, 40));
  return new ProtocolError('wait', url, `the reply did not contain ${shown}`);
}

/** sleep waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
