/**
 * The shapes every load loop shares: what a run is asked to do (LoadPlan), what it counts
 * (Counters) and how a driver reads it (LoadEngine). The stream and datagram loops implement
 * LoadEngine in this thread; a worker thread runs one and is driven through the same interface.
 */
import type { SocketAddress } from '../address.js';
import { fromSystemError, type SockkitError } from '../errors.js';
import type { Framing } from '../framing/frame-names.js';
import type { ClientTransportOptions } from '../stream/transports.js';
import { type Histogram, newHistogram } from './latency.js';
import type { MismatchSample } from './reply-check.js';
import type { RequestSpec } from './request-spec.js';

/** MAX_MISMATCH_SAMPLES is how many mismatched replies a run keeps to show. */
export const MAX_MISMATCH_SAMPLES = 3;

/**
 * LoadPlan is the work one engine does. Every field is plain data, so it can cross to a worker;
 * the transport options (`tls`) are dial's.
 */
export interface LoadPlan extends ClientTransportOptions, Framing {
  readonly address: SocketAddress;
  /** Connections (or UDP peers) this engine opens. */
  readonly connections: number;
  /** The first connection's number across all engines; it picks each connection's messages. */
  readonly firstConnection: number;
  /** Bytes per message on the wire. */
  readonly size: number;
  /** Messages in flight per connection in the closed loop (1 is ping-pong). */
  readonly depth: number;
  /**
   * Closed loop, stream transports: send the `depth` messages in one write and the next `depth`
   * only once all are answered (redis-benchmark's `-P`), instead of one more per answer.
   */
  readonly batch: boolean;
  /** Messages per second for this engine in the open loop; 0 means closed loop. */
  readonly rate: number;
  /**
   * How long the run lasts, in milliseconds. The open loop's timetable ends there: a message due
   * at or after it is never sent, however late the run is stopped.
   */
  readonly duration: number;
  /** Open a new connection for every message (connect, one echo, close): the connection rate. */
  readonly reconnect: boolean;
  /** How long a UDP datagram may go unanswered before it counts as lost, in milliseconds. */
  readonly lossTimeout: number;
  /** How long each connect may take, in milliseconds. */
  readonly connectTimeout: number;
  /** Try only IPv4 (4) or only IPv6 (6) addresses of the server's name (`-4`, `-6`). */
  readonly family?: 4 | 6 | undefined;
  /** Request/response mode: what to send and what each reply must be (echo mode without it). */
  readonly request?: RequestSpec | undefined;
}

/**
 * ERROR_KINDS are the ways a connection can fail, as the report counts them: `refused` (nobody
 * listens, or a UDP port answered "unreachable"), `reset` (the server reset the connection, as a
 * full server does), `closed` (the server closed it before the run ended), `timed_out` (a connect
 * that took longer than the connect timeout), `protocol` (the server sent bytes it was never sent),
 * `tls` (a failed handshake or certificate), `other` (any other system error, or a worker thread lost).
 */
export const ERROR_KINDS = ['refused', 'reset', 'closed', 'timed_out', 'protocol', 'tls', 'other'] as const;

/** ErrorKind is one of ERROR_KINDS. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** ErrorCounts counts failed connections by kind. */
export type ErrorCounts = Record<ErrorKind, number>;

/** errorKindOf classifies a connection's error (a SockkitError, or a Node system or TLS error). */
export function errorKindOf(err: unknown): ErrorKind {
  switch (fromSystemError('', '', err).code) {
    case 'ERR_CONNECTION_REFUSED':
      return 'refused';
    case 'ERR_CONNECTION_RESET':
      return 'reset';
    case 'ERR_TIMEOUT':
      return 'timed_out';
    case 'ERR_PROTOCOL':
    case 'ERR_FRAME_TOO_LARGE':
      return 'protocol';
    case 'ERR_TLS':
      return 'tls';
    default:
      return 'other';
  }
}

/** totalErrors is the number of failed connections of every kind. */
export function totalErrors(errors: ErrorCounts): number {
  let total = 0;
  for (const kind of ERROR_KINDS) total += errors[kind];
  return total;
}

/** Counters are what a run counted over some interval. */
export interface Counters {
  /** Messages whose echo (or reply) came back complete. */
  messages: number;
  /** Bytes received back. */
  bytes: number;
  /** Messages whose echo differed from what was sent (or a datagram that was never sent). */
  mismatches: number;
  /** Connections that failed (refused, reset, closed early, sent more than they were sent, ...), by kind. */
  errors: ErrorCounts;
  /** UDP datagrams never answered within the loss timeout; requests unanswered when the run ended. */
  lost: number;
  /** Replies after the run's end, while the requests in flight were drained (not in `messages`). */
  late: number;
  /** UDP replies beyond the one each datagram asks for: a datagram answered twice, or ten times. */
  duplicated: number;
  /** UDP replies that came after a later one. */
  reordered: number;
  /** Connections opened and closed (reconnect mode). */
  connects: number;
  /** The first few replies that failed their check (request/response mode), at most MAX_MISMATCH_SAMPLES. */
  mismatchSamples: MismatchSample[];
}

/** zeroCounters returns fresh counters. */
export function zeroCounters(): Counters {
  return {
    messages: 0,
    bytes: 0,
    mismatches: 0,
    errors: { refused: 0, reset: 0, closed: 0, timed_out: 0, protocol: 0, tls: 0, other: 0 },
    lost: 0,
    late: 0,
    duplicated: 0,
    reordered: 0,
    connects: 0,
    mismatchSamples: [],
  };
}

/** addCounters adds `from` into `into`. */
export function addCounters(into: Counters, from: Counters): void {
  into.messages += from.messages;
  into.bytes += from.bytes;
  into.mismatches += from.mismatches;
  for (const kind of ERROR_KINDS) into.errors[kind] += from.errors[kind];
  into.lost += from.lost;
  into.late += from.late;
  into.duplicated += from.duplicated;
  into.reordered += from.reordered;
  into.connects += from.connects;
  for (const sample of from.mismatchSamples) {
    if (into.mismatchSamples.length < MAX_MISMATCH_SAMPLES) into.mismatchSamples.push(sample);
  }
}

/** LoadSample is what happened since the previous sample: counters, and a histogram of latencies. */
export interface LoadSample {
  readonly counters: Counters;
  readonly histogram: Histogram;
  /** Connections open at the time of the sample. */
  readonly open: number;
}

/**
 * ConnectOutcome is how an engine's connections opened: how many did, and the first failure.
 * Each connection that could not open is counted in the engine's first sample, by kind.
 */
export interface ConnectOutcome {
  readonly opened: number;
  readonly error?: SockkitError | undefined;
}

/** LoadEngine is one load loop, driven by `bench`: connect, start, sample each second, stop. */
export interface LoadEngine {
  /**
   * connect opens every connection it can and resolves with how many did; the run goes on with
   * those. It rejects only when nothing could be tried (a name that does not resolve).
   */
  connect(): Promise<ConnectOutcome>;
  /**
   * start begins sending. `onIdle` is called once if every connection has failed (stream
   * transports outside reconnect mode), so the run can end then rather than at its next second.
   */
  start(onIdle?: () => void): void;
  /** sample returns what happened since the previous sample and starts a new interval. */
  sample(): Promise<LoadSample>;
  /** stop stops sending, closes every connection, and returns the last interval. */
  stop(): Promise<LoadSample>;
}

/**
 * Tally is the mutable state a loop records into: counters and histogram for the current
 * interval. `take` hands them over and starts afresh, so recording never allocates.
 */
export class Tally {
  counters: Counters = zeroCounters();
  histogram: Histogram = newHistogram();

  /** take returns the interval so far and starts a new one (a new histogram once a second, not per message). */
  take(open: number): LoadSample {
    const sample = { counters: this.counters, histogram: this.histogram, open };
    this.counters = zeroCounters();
    this.histogram = newHistogram();
    return sample;
  }
}
